"""The ticket lifecycle: every path of DESIGN.md's state machine, and who may do what."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count
from typing import Any

import pytest

from domain.intake.ids import receive_command
from domain.jurisdiction import Jurisdiction
from domain.ticket import Decision
from domain.ticket.decide import decide
from domain.ticket.fold import AssignmentStatus, TicketState, TicketStatus, replay
from domain.ticket.lifecycle.actions import command_for_action, unit_of_topic
from domain.ticket.lifecycle.rules import LifecycleRules, capped_extension, rules_for
from schemas.actions import UNIT_ACTION, UNIT_ACTION_TYPES
from schemas.appeal import Appeal, Caller
from schemas.commands import (
    BlowWhistle,
    CloseAsMerged,
    CloseTicket,
    CompleteTicket,
    DeclareConfidential,
    DenyExtension,
    DenyReturn,
    DispatchTicket,
    GrantExtension,
    JudgeUnreasonable,
    MergeAppeal,
    NoteProgress,
    RecordCallback,
    RedispatchTicket,
    ReportIn,
    ReportPart,
    RequestExtension,
    ReturnOrder,
    ReworkTicket,
    SignOrder,
    TicketCommand,
)
from schemas.events import CommandRejected, ExtensionGranted, TicketEvent
from schemas.triage import TriageDecision

NOW = datetime(2026, 3, 2, 1, 15, tzinfo=UTC)
APPEAL = Appeal(
    channel="phone",
    source_id="v1",
    received_at=NOW,
    text="白马桥街道凤凰城小区门口下水道堵塞，污水外溢。",
    address="凤凰城小区",
    caller=Caller(name="向先生", phone="18939595216"),
)
UNIT_TYPES: dict[str, Any] = {
    "sign": SignOrder,
    "return": ReturnOrder,
    "request_extension": RequestExtension,
    "note_progress": NoteProgress,
    "report_part": ReportPart,
    "complete": CompleteTicket,
    "whistle": BlowWhistle,
    "report_in": ReportIn,
}
CONTROL_TYPES: dict[str, Any] = {
    "dispatch": DispatchTicket,
    "redispatch": RedispatchTicket,
    "deny_return": DenyReturn,
    "grant_extension": GrantExtension,
    "deny_extension": DenyExtension,
    "callback": RecordCallback,
    "rework": ReworkTicket,
    "judge_unreasonable": JudgeUnreasonable,
    "close": CloseTicket,
    "merge": MergeAppeal,
    "confidential": DeclareConfidential,
}
UNIT_FIELDS: dict[str, dict[str, Any]] = {
    "sign": {},
    "return": {"reason_code": "not_our_duty", "reason": "不属本单位职责"},
    "request_extension": {"extra": "3wd", "reason": "需协调施工队"},
    "note_progress": {"note": "已到现场查看"},
    "report_part": {"report": "已配合疏通"},
    "complete": {"reply": "已疏通下水道，路面已清洗"},
    "whistle": {"units": ("cgj", "sthjj"), "reason": "需执法部门到场"},
    "report_in": {"note": "已到场"},
}


def triage(**overrides: object) -> TriageDecision:
    base: dict[str, object] = {
        "appeal_type": "help",
        "category": "drainage.sewer",
        "urgency": "normal",
        "town": "baimaqiao",
        "disposition": "dispatch",
        "lead": "zjj",
        "co": ("baimaqiao",),
        "confidence": 0.9,
    }
    return TriageDecision.model_validate({**base, **overrides})


class Desk:
    """Issues commands with fresh ids and keeps the ticket's log, as the ticket agent would."""

    def __init__(self, decision: TriageDecision | None = None, rules: LifecycleRules | None = None) -> None:
        self.ids = count(1)
        self.rules = rules or LifecycleRules()
        first = decide(None, receive_command(APPEAL, "T1", decision or triage(), NOW), NOW, self.rules)
        assert first.state is not None
        self.state: TicketState = first.state
        self.log: list[TicketEvent] = list(first.events)

    def unit(self, kind: str, unit: str, **fields: Any) -> TicketCommand:
        action_id = f"a{next(self.ids)}"
        return UNIT_TYPES[kind](  # type: ignore[no-any-return]
            command_id=f"unit:{unit}:{action_id}",
            ticket_id="T1",
            issued_at=NOW,
            unit=unit,
            action_id=action_id,
            **{**UNIT_FIELDS[kind], **fields},
        )

    def control(self, kind: str, role: str = "control_room", **fields: Any) -> TicketCommand:
        return CONTROL_TYPES[kind](  # type: ignore[no-any-return]
            command_id=f"control:{next(self.ids)}",
            ticket_id="T1",
            issued_at=NOW,
            operator="王坐席",
            role=role,
            **fields,
        )

    def run(self, command: TicketCommand) -> Decision:
        decision = decide(self.state, command, NOW, self.rules)
        assert decision.state is not None
        self.state = decision.state
        self.log.extend(decision.events)
        return decision

    def act(self, kind: str, unit: str, **fields: Any) -> list[str]:
        return types(self.run(self.unit(kind, unit, **fields)))

    def decide_(self, kind: str, role: str = "control_room", **fields: Any) -> list[str]:
        return types(self.run(self.control(kind, role, **fields)))


def types(decision: Decision) -> list[str]:
    return [e.type for e in decision.events]


def substance(state: TicketState) -> dict[str, Any]:
    """The state without the bookkeeping a rejection changes (version, time, remembered ids, count)."""
    return state.model_dump(exclude={"version", "updated_at", "recent_command_ids", "rejected_commands"})


def signed_desk() -> Desk:
    desk = Desk()
    assert desk.act("sign", "zjj") == ["order_signed"]
    return desk


def completed_desk() -> Desk:
    desk = signed_desk()
    assert desk.act("complete", "zjj") == ["ticket_completed"]
    return desk


def test_the_whole_happy_path_ends_closed_after_a_satisfied_callback() -> None:
    desk = Desk()
    assert desk.state.status == TicketStatus.DISPATCHED
    assert desk.act("sign", "zjj") == ["order_signed"]
    assert desk.state.status == TicketStatus.SIGNED
    assert desk.act("sign", "baimaqiao") == ["order_signed"]
    assert desk.act("note_progress", "zjj") == ["progress_noted"]
    assert desk.act("report_part", "baimaqiao") == ["part_reported"]
    assert desk.act("complete", "zjj") == ["ticket_completed"]
    assert (desk.state.status, desk.state.reply) == (TicketStatus.COMPLETED, "已疏通下水道，路面已清洗")
    assert desk.decide_("callback", outcome="satisfied") == ["callback_recorded", "ticket_closed"]
    state = desk.state
    assert (state.status, state.resolution, state.version) == (TicketStatus.CLOSED, "callback", 9)
    assert [(a.unit, a.role, a.status) for a in state.assignments] == [
        ("zjj", "lead", AssignmentStatus.COMPLETED),
        ("baimaqiao", "co", AssignmentStatus.REPORTED),
    ]
    assert replay(desk.log) == state


def test_completion_names_the_co_units_that_have_not_reported_their_part() -> None:
    desk = signed_desk()
    completed = desk.run(desk.unit("complete", "zjj")).events[0]
    assert completed.type == "ticket_completed" and completed.co_outstanding == ("baimaqiao",)


@pytest.mark.parametrize("kind", UNIT_TYPES)
def test_a_unit_acting_on_a_ticket_not_assigned_to_it_is_a_security_rejection(kind: str) -> None:
    desk = signed_desk()
    before = substance(desk.state)
    decision = desk.run(desk.unit(kind, "cgj"))
    rejected = decision.rejected
    assert types(decision) == ["command_rejected"]
    assert (rejected[0].violation, rejected[0].actor) == ("authorization", "cgj")
    assert rejected[0].reason == "ticket is not assigned to unit cgj"
    assert substance(desk.state) == before and desk.state.rejected_commands == 1


@pytest.mark.parametrize(
    ("kind", "unit"),
    [("complete", "baimaqiao"), ("request_extension", "baimaqiao"), ("report_part", "zjj")],
)
def test_an_action_the_units_role_may_not_do_is_a_security_rejection(kind: str, unit: str) -> None:
    desk = signed_desk()
    desk.act("sign", "baimaqiao")
    before = substance(desk.state)
    rejected = desk.run(desk.unit(kind, unit)).rejected
    assert len(rejected) == 1 and rejected[0].violation == "authorization"
    assert rejected[0].reason.startswith(("a co unit may not", "a lead unit may not"))
    assert substance(desk.state) == before


@pytest.mark.parametrize(
    ("setup", "kind", "unit", "reason"),
    [
        ([], "complete", "zjj", "unit zjj cannot complete: its order is dispatched"),
        ([], "request_extension", "zjj", "unit zjj cannot request an extension: its order is dispatched"),
        ([], "report_part", "baimaqiao", "unit baimaqiao cannot report its part: its order is dispatched"),
        ([("sign", "zjj")], "sign", "zjj", "unit zjj cannot sign: its order is signed"),
    ],
)
def test_an_action_out_of_turn_is_a_state_rejection_that_changes_nothing(
    setup: list[tuple[str, str]], kind: str, unit: str, reason: str
) -> None:
    desk = Desk()
    for step, by in setup:
        desk.act(step, by)
    before = substance(desk.state)
    rejected = desk.run(desk.unit(kind, unit)).rejected
    assert [(r.violation, r.reason) for r in rejected] == [("state", reason)]
    assert substance(desk.state) == before


def test_a_lead_return_waits_for_the_control_room_and_the_router_promotes_the_next_candidate() -> None:
    desk = signed_desk()
    assert desk.act("return", "zjj") == ["order_returned"]
    assert (desk.state.status, desk.state.lead, desk.state.returned_by) == (
        TicketStatus.RETURNED,
        None,
        ("zjj",),
    )
    # The returned lead cannot work on it meanwhile; the co unit can.
    assert desk.act("complete", "zjj") == ["command_rejected"]
    assert desk.state.rejected_commands == 1
    assert desk.act("sign", "baimaqiao") == ["order_signed"]
    redispatched = desk.run(desk.control("redispatch", reason="属地先行处置"))
    event = redispatched.events[0]
    assert event.type == "ticket_redispatched"
    assert (event.lead, event.co, event.by) == ("baimaqiao", (), "router")
    assert (desk.state.status, desk.state.lead, desk.state.co) == (TicketStatus.DISPATCHED, "baimaqiao", ())
    assert [a.unit for a in desk.state.assignments] == ["baimaqiao"]
    # The unit it was taken from no longer holds it: acting on it now is a security matter.
    assert desk.run(desk.unit("note_progress", "zjj")).rejected[0].violation == "authorization"


def test_a_return_naming_the_responsible_unit_makes_it_the_routers_first_candidate() -> None:
    desk = Desk()
    desk.act("return", "zjj", reason_code="wrong_category", suggested_unit="cgj")
    event = desk.run(desk.control("redispatch", reason="按退单建议改派")).events[0]
    assert event.type == "ticket_redispatched" and (event.lead, event.co) == ("cgj", ("baimaqiao",))


def test_a_person_redispatches_to_the_units_they_name() -> None:
    desk = signed_desk()
    event = desk.run(desk.control("redispatch", lead="cgj", co=("yutan",), reason="改派城管")).events[0]
    assert event.type == "ticket_redispatched" and (event.by, event.lead, event.co) == (
        "person",
        "cgj",
        ("yutan",),
    )
    assert desk.state.signed_at is None and desk.state.status == TicketStatus.DISPATCHED


def test_a_redispatch_with_no_candidate_left_goes_to_a_person() -> None:
    desk = Desk(triage(co=()))
    desk.act("return", "zjj")
    assert desk.decide_("redispatch", reason="退单") == ["ticket_queued_for_manual_dispatch"]
    assert (desk.state.status, desk.state.assignments, desk.state.lead) == (TicketStatus.MANUAL, (), None)
    assert desk.decide_("dispatch", lead="cgj") == ["ticket_dispatched"]
    assert desk.state.status == TicketStatus.DISPATCHED and desk.state.lead == "cgj"


def test_a_denied_return_gives_the_order_back_as_it_was() -> None:
    desk = signed_desk()
    desk.act("return", "zjj")
    assert desk.decide_("deny_return", reason="属于住建职责") == ["return_denied"]
    assert (desk.state.status, desk.state.lead) == (TicketStatus.SIGNED, "zjj")
    assert desk.state.assignment("zjj").status == AssignmentStatus.SIGNED  # type: ignore[union-attr]
    assert desk.act("complete", "zjj") == ["ticket_completed"]


def test_a_co_unit_return_releases_only_that_unit() -> None:
    desk = signed_desk()
    assert desk.act("return", "baimaqiao", reason_code="lacks_power") == ["order_returned"]
    assert (desk.state.status, desk.state.co, desk.state.lead) == (TicketStatus.SIGNED, (), "zjj")


@pytest.mark.parametrize(
    ("asked", "granted", "capped"), [("2wd", "2wd", False), ("10wd", "5wd", True), ("36wh", "5wd", True)]
)
def test_an_extension_is_granted_as_asked_or_capped_by_extension_max(
    asked: str, granted: str, capped: bool
) -> None:
    desk = signed_desk()
    assert desk.act("request_extension", "zjj", extra=asked) == ["extension_requested"]
    assert desk.act("request_extension", "zjj") == ["command_rejected"]  # one pending at a time
    event = desk.run(desk.control("grant_extension")).events[0]
    assert isinstance(event, ExtensionGranted)
    assert (event.requested, event.granted, event.capped) == (asked, granted, capped)
    assert desk.state.pending_extension is None and desk.state.extensions == (granted,)


def test_an_extension_can_be_denied_and_none_decided_without_a_request() -> None:
    desk = signed_desk()
    assert desk.decide_("grant_extension") == ["command_rejected"]
    desk.act("request_extension", "zjj")
    assert desk.decide_("deny_extension", reason="可在时限内办结") == ["extension_denied"]
    assert desk.state.pending_extension is None and desk.state.extensions == ()


def test_capping_compares_working_days_by_their_working_hours() -> None:
    rules = LifecycleRules(working_hours_per_day=7.0)
    assert capped_extension("35wh", rules) == ("35wh", False)
    assert capped_extension("35.5wh", rules) == ("5wd", True)


def test_a_dissatisfied_callback_is_reworked_with_the_units_dispatched_again_and_counted() -> None:
    desk = completed_desk()
    assert desk.decide_("callback", outcome="dissatisfied") == ["callback_recorded"]
    assert desk.state.status == TicketStatus.DISSATISFIED
    assert desk.decide_("rework", reason="群众反映仍有污水") == ["ticket_reworked"]
    state = desk.state
    assert (state.status, state.rework_count, state.lead, state.co) == (
        TicketStatus.DISPATCHED,
        1,
        "zjj",
        ("baimaqiao",),
    )
    assert {a.status for a in state.assignments} == {AssignmentStatus.DISPATCHED}
    assert desk.act("complete", "zjj") == ["command_rejected"]  # must sign again first
    desk.act("sign", "zjj")
    desk.act("complete", "zjj")
    assert desk.decide_("callback", outcome="basically_satisfied") == ["callback_recorded", "ticket_closed"]
    assert desk.state.resolution == "callback" and replay(desk.log) == desk.state


def test_only_the_supervisor_judges_a_dissatisfied_demand_unreasonable() -> None:
    desk = completed_desk()
    desk.decide_("callback", outcome="dissatisfied")
    rejected = desk.run(desk.control("judge_unreasonable", reason="诉求超出政策范围")).rejected
    assert [(r.violation, r.reason) for r in rejected] == [
        ("authorization", "role control_room may not judge unreasonable")
    ]
    assert desk.decide_("judge_unreasonable", role="supervisor", reason="诉求超出政策范围") == [
        "demand_judged_unreasonable",
        "ticket_closed",
    ]
    assert (desk.state.status, desk.state.resolution) == (TicketStatus.CLOSED, "unreasonable")


def test_an_unreachable_citizen_closes_the_ticket_after_the_last_try() -> None:
    desk = completed_desk()
    assert desk.decide_("callback", outcome="unreachable") == ["callback_recorded"]
    assert desk.decide_("callback", outcome="unreachable") == ["callback_recorded"]
    assert desk.state.status == TicketStatus.COMPLETED
    assert desk.decide_("callback", outcome="unreachable") == ["callback_recorded", "ticket_closed"]
    assert desk.state.resolution == "unreachable" and desk.state.callbacks[0].attempts == 3


def test_the_hotline_closes_only_tickets_no_unit_is_working_on() -> None:
    desk = signed_desk()
    assert desk.decide_("close", reason="来电人撤诉") == ["command_rejected"]
    desk.act("complete", "zjj")
    assert desk.decide_("close", reason="来电人无联系方式") == ["ticket_closed"]
    assert desk.state.resolution == "closed_by_hotline"
    assert desk.act("note_progress", "zjj") == ["command_rejected"]
    assert desk.log[-1].violation == "state"  # type: ignore[union-attr]


def test_a_merged_citizen_is_called_back_too_and_the_merged_ticket_closes_into_this_one() -> None:
    desk = signed_desk()
    other = APPEAL.model_copy(
        update={"source_id": "v2", "caller": Caller(name="李女士", phone="13800001111")}
    )
    merged = desk.run(desk.control("merge", source_ticket_id="T2", source_appeal=other, score=0.91))
    assert types(merged) == ["appeal_merged"]
    assert [c.model_dump() for c in merged.follow_ups] == [
        CloseAsMerged(
            command_id="merged:T1:4", ticket_id="T2", issued_at=NOW, into_ticket_id="T1"
        ).model_dump()
    ]
    assert desk.decide_("merge", source_ticket_id="T2", source_appeal=other) == ["command_rejected"]
    desk.act("complete", "zjj")
    assert desk.decide_("callback", outcome="satisfied") == ["callback_recorded"]
    assert desk.state.status == TicketStatus.COMPLETED  # the merged citizen is still to be called
    assert desk.decide_("callback", citizen="phone:v2", outcome="no_comment") == [
        "callback_recorded",
        "ticket_closed",
    ]

    source = decide(None, receive_command(other, "T2", triage(), NOW), NOW).state
    closed = decide(source, merged.follow_ups[0], NOW)
    assert types(closed) == ["ticket_closed"]
    assert closed.state is not None and (closed.state.resolution, closed.state.merged_into) == (
        "merged",
        "T1",
    )


def test_the_same_command_twice_changes_nothing_and_a_rejected_one_is_remembered_too() -> None:
    desk = signed_desk()
    complete = desk.unit("complete", "zjj")
    desk.run(complete)
    state = desk.state
    assert desk.run(complete).events == () and desk.state == state
    wrong = desk.unit("sign", "cgj")
    assert types(desk.run(wrong)) == ["command_rejected"]
    assert desk.run(wrong).events == ()


def test_a_command_on_an_unknown_ticket_is_refused_without_an_event() -> None:
    command = Desk().unit("sign", "zjj").model_copy(update={"ticket_id": "NOPE"})
    decision = decide(None, command, NOW)
    assert decision.events == () and decision.state is None and decision.refused is not None
    assert (decision.refused.violation, decision.refused.reason, decision.refused.actor) == (
        "authorization",
        "no such ticket",
        "zjj",
    )


def test_with_the_jurisdictions_rules_unknown_units_categories_and_towns_are_refused(
    jurisdiction: Jurisdiction,
) -> None:
    desk = Desk(triage(disposition="manual", lead=None, co=()), rules=rules_for(jurisdiction))
    assert desk.state.status == TicketStatus.MANUAL
    assert desk.decide_("dispatch", lead="nobody") == ["command_rejected"]
    assert desk.decide_("dispatch", lead="zjj", town="atlantis") == ["command_rejected"]
    assert desk.decide_("dispatch", lead="zjj", co=("baimaqiao",), category="drainage.sewer") == [
        "ticket_dispatched"
    ]
    rules = rules_for(jurisdiction)
    assert (rules.working_hours_per_day, str(rules.extension_max)) == (7.0, "5wd")


@pytest.mark.parametrize("kind", UNIT_ACTION_TYPES)
def test_a_unit_action_becomes_its_command_with_the_unit_from_the_topic(kind: str) -> None:
    payload = {"action_id": "A-1", "ticket_id": "T1", "acted_at": "2026-03-02T10:00:00+08:00", "type": kind}
    action = UNIT_ACTION.validate_python({**payload, **UNIT_FIELDS[kind]})
    command = command_for_action("zjj", action, NOW)
    assert (command.unit, command.command_id, command.ticket_id) == ("zjj", "unit:zjj:A-1", "T1")
    assert isinstance(command, UNIT_TYPES[kind])


def test_a_unit_action_carries_no_unit_and_the_topic_names_it() -> None:
    payload = {"action_id": "A", "ticket_id": "T1", "acted_at": "2026-03-02T10:00:00+08:00", "type": "sign"}
    with pytest.raises(ValueError, match="unit"):
        UNIT_ACTION.validate_python({**payload, "unit": "zjj"})
    assert unit_of_topic("t1.units.zjj.actions", "t1.") == "zjj"
    assert unit_of_topic("t1.units.zjj.orders", "t1.") is None
    assert unit_of_topic("units.zjj.actions", "t1.") is None
    assert unit_of_topic("t1.units.a.b.actions", "t1.") is None


def test_rejections_are_kept_in_the_log_and_the_log_rebuilds_the_state() -> None:
    desk = signed_desk()
    desk.act("complete", "baimaqiao")
    desk.decide_("rework", reason="x")
    assert [e.type for e in desk.log if isinstance(e, CommandRejected)] == ["command_rejected"] * 2
    assert replay(desk.log) == desk.state


@pytest.mark.parametrize("desk", [Desk, signed_desk, completed_desk])
def test_the_hotline_declares_a_caller_confidential_at_any_stage_and_only_once(desk: Any) -> None:
    at = desk()
    assert not at.state.triage.reporter_protected
    assert at.decide_("confidential", reason="来电人担心被报复") == ["caller_withheld"]
    assert (at.state.appeal.confidential, at.state.triage.caller_withheld) == (True, True)
    assert at.state.triage.reporter_protected and at.state.status == desk().state.status
    before = substance(at.state)
    assert at.decide_("confidential", reason="再次声明") == ["command_rejected"]
    assert substance(at.state) == before
    assert replay(at.log) == at.state


def test_the_system_may_not_declare_a_caller_confidential() -> None:
    desk = Desk()
    decision = desk.run(desk.control("confidential", role="system", reason="自动"))
    [rejected] = decision.events
    assert isinstance(rejected, CommandRejected) and rejected.violation == "authorization"
