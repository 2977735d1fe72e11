"""The operator's decision at the desk: triage yields to it, the ticket keeps the answer, and an
answer on the line is called back like any other (issue 19)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.desk import honour
from domain.intake.ids import receive_command
from domain.jurisdiction import Jurisdiction
from domain.ticket import TicketState, TicketStatus
from domain.ticket.decide import decide
from domain.ticket.lifecycle.control import INSTANT_NOT_ENOUGH
from domain.ticket.lifecycle.rules import rules_for
from schemas.appeal import Appeal
from schemas.commands import RecordCallback
from schemas.desk import DeskAnswer, DeskDecision
from schemas.events import TicketAnsweredInstantly, TicketDispatched, TicketQueuedForManualDispatch
from schemas.triage import TriageDecision

AT = datetime(2026, 3, 2, 1, 15, tzinfo=UTC)
ANSWER = DeskAnswer(
    text="退休提取公积金：带身份证和退休证到公积金窗口办理。",
    entry_id="gjj-withdraw-retirement",
    source="《宁乡市住房公积金提取管理办法》 第八条",
)
ROUTED = TriageDecision(
    appeal_type="consult",
    category="housing.fund",
    urgency="normal",
    town="yutan",
    disposition="dispatch",
    lead="gjj",
    co=(),
    confidence=0.8,
    explanation=("类别：住房公积金",),
)


def desk(action: str, **fields: object) -> DeskDecision:
    return DeskDecision.model_validate({"operator": "李敏", "action": action, **fields})


def test_an_answer_on_the_line_makes_the_ticket_instant_and_says_so_beside_triages_reading(
    jurisdiction: Jurisdiction,
) -> None:
    decided = honour(ROUTED, desk("answer", answer=ANSWER), jurisdiction)
    assert (decided.disposition, decided.lead, decided.co, decided.category) == (
        "instant",
        None,
        (),
        "housing.fund",
    )
    assert decided.explanation == (
        "类别：住房公积金",
        "坐席 李敏当场答复（即办），依据知识库条目 gjj-withdraw-retirement（系统分拨建议：派单，主办 gjj）",
    )


def test_a_transfer_names_where_to(jurisdiction: Jurisdiction) -> None:
    decided = honour(ROUTED, desk("transfer", transfer_to="120"), jurisdiction)
    assert (decided.disposition, decided.transfer_to, decided.lead) == ("transfer", "120", None)


def test_a_dispatch_accepting_triage_keeps_its_route_and_a_correction_routes_anew(
    jurisdiction: Jurisdiction,
) -> None:
    accepted = honour(ROUTED, desk("dispatch"), jurisdiction)
    assert (accepted.disposition, accepted.lead, accepted.co) == ("dispatch", "gjj", ())
    assert accepted.explanation[-1] == "坐席 李敏派单（采纳系统建议）（系统分拨建议：派单，主办 gjj）"
    moved = honour(ROUTED, desk("dispatch", category="sanitation.garbage", urgency="urgent"), jurisdiction)
    route = jurisdiction.route("sanitation.garbage", "yutan")
    assert route is not None
    assert (moved.disposition, moved.category, moved.urgency, moved.lead, moved.co) == (
        "dispatch",
        "sanitation.garbage",
        "urgent",
        route.lead,
        route.co,
    )
    named = honour(ROUTED, desk("dispatch", lead="zjj", co=("yutan", "zjj")), jurisdiction)
    assert (named.lead, named.co) == ("zjj", ("yutan",))
    assert named.explanation[-1].startswith("坐席 李敏派单（更正了主办单位、协办单位）")


def test_a_dispatch_naming_what_this_jurisdiction_does_not_know_goes_to_a_person(
    jurisdiction: Jurisdiction,
) -> None:
    decided = honour(ROUTED, desk("dispatch", lead="nowhere", town="atlantis"), jurisdiction)
    assert (decided.disposition, decided.lead) == ("manual", None)
    assert (
        decided.explanation[-1]
        == "坐席 李敏派单，但单位 nowhere 不在本辖区；属地 atlantis 不在本辖区：转人工派单"
    )


def test_the_decision_must_be_consistent() -> None:
    for bad in (
        {"action": "answer"},
        {"action": "transfer"},
        {"action": "dispatch", "transfer_to": "110"},
        {"action": "answer", "answer": ANSWER.model_dump(), "lead": "gjj"},
    ):
        with pytest.raises(ValueError):
            DeskDecision.model_validate({"operator": "李敏", **bad})


def received(jurisdiction: Jurisdiction, decision: DeskDecision) -> tuple[TicketState, list[object]]:
    appeal = Appeal(
        channel="phone", source_id="desk-1", received_at=AT, text="退休了公积金怎么取", desk=decision
    )
    triage = honour(ROUTED, decision, jurisdiction)
    result = decide(None, receive_command(appeal, "T1", triage, AT), AT, rules_for(jurisdiction))
    assert result.state is not None
    return result.state, list(result.events)


def test_the_ticket_keeps_the_answer_its_source_and_the_operator(jurisdiction: Jurisdiction) -> None:
    state, events = received(jurisdiction, desk("answer", answer=ANSWER))
    answered = events[1]
    assert isinstance(answered, TicketAnsweredInstantly)
    assert (answered.answer, answered.entry_id, answered.source, answered.operator) == (
        ANSWER.text,
        "gjj-withdraw-retirement",
        ANSWER.source,
        "李敏",
    )
    assert state.status == TicketStatus.INSTANT
    state, events = received(jurisdiction, desk("dispatch"))
    dispatched = events[1]
    assert isinstance(dispatched, TicketDispatched)
    assert (dispatched.by, dispatched.operator, dispatched.lead) == ("person", "李敏", "gjj")


def callback(
    state: TicketState, outcome: str, jurisdiction: Jurisdiction
) -> tuple[TicketState, list[str], list[object]]:
    command = RecordCallback(
        command_id=f"cb-{outcome}",
        ticket_id="T1",
        issued_at=AT + timedelta(hours=1),
        operator="回访员",
        role="control_room",
        outcome=outcome,
    )
    result = decide(state, command, AT + timedelta(hours=1), rules_for(jurisdiction))
    assert result.state is not None
    return result.state, [e.type for e in result.events], list(result.events)


def test_an_answer_on_the_line_is_called_back_and_a_dissatisfied_caller_goes_to_a_person(
    jurisdiction: Jurisdiction,
) -> None:
    state, _ = received(jurisdiction, desk("answer", answer=ANSWER))
    closed, types, _ = callback(state, "satisfied", jurisdiction)
    assert (types, closed.status, closed.resolution) == (
        ["callback_recorded", "ticket_closed"],
        TicketStatus.CLOSED,
        "callback",
    )
    queued, types, events = callback(state, "dissatisfied", jurisdiction)
    assert (types, queued.status) == (
        ["callback_recorded", "ticket_queued_for_manual_dispatch"],
        TicketStatus.MANUAL,
    )
    assert isinstance(events[1], TicketQueuedForManualDispatch) and events[1].reason == INSTANT_NOT_ENOUGH


def test_the_monthly_report_shows_the_on_line_answer_rate_and_the_entries_used_wanting_or_out_of_date(
    jurisdiction: Jurisdiction,
) -> None:
    from datetime import date

    from domain.reporting import KbUse, PeriodKind, build_report, period_for
    from domain.time_limits import WorkingCalendar
    from infra.holidays import national_holidays
    from schemas.kb import KbEntry, KbSource
    from web.reports.files import report_dict
    from web.reports.html import render_html

    calendar = WorkingCalendar.for_jurisdiction(jurisdiction, national_holidays())
    logs = []
    for n, (outcome, entry) in enumerate(
        (
            ("satisfied", "gjj-withdraw-retirement"),
            ("dissatisfied", "gjj-withdraw-retirement"),
            ("satisfied", "gjj-old-rule"),
        )
    ):
        answer = ANSWER.model_copy(update={"entry_id": entry})
        appeal = Appeal(
            channel="phone",
            source_id=f"desk-{n}",
            received_at=AT,
            text="公积金怎么取",
            desk=desk("answer", answer=answer),
        )
        triage = honour(ROUTED, appeal.desk, jurisdiction)  # type: ignore[arg-type]
        first = decide(None, receive_command(appeal, f"T{n}", triage, AT), AT, rules_for(jurisdiction))
        command = RecordCallback(
            command_id=f"cb{n}",
            ticket_id=f"T{n}",
            issued_at=AT + timedelta(hours=1),
            operator="回访员",
            role="control_room",
            outcome=outcome,
        )
        second = decide(first.state, command, AT + timedelta(hours=1), rules_for(jurisdiction))
        logs.append([*first.events, *second.events])
    dispatched = decide(
        None,
        receive_command(
            Appeal(channel="phone", source_id="desk-9", received_at=AT, text="路灯坏了"), "T9", ROUTED, AT
        ),
        AT,
        rules_for(jurisdiction),
    )
    logs.append(list(dispatched.events))
    source = KbSource(document="《宁乡市住房公积金提取管理办法》")
    kb = {
        "gjj-withdraw-retirement": KbEntry(
            entry_id="gjj-withdraw-retirement",
            title="退休提取住房公积金",
            unit="gjj",
            categories=("housing.fund",),
            questions=("退休怎么提取",),
            answer="…",
            source=source,
            valid_from=date(2024, 1, 1),
        ),
        "gjj-stale": KbEntry(
            entry_id="gjj-stale",
            title="旧的提取办法",
            unit="gjj",
            categories=("housing.fund",),
            questions=("提取",),
            answer="…",
            source=source,
            valid_from=date(2020, 1, 1),
            valid_to=date(2025, 12, 31),
        ),
    }
    month = period_for(PeriodKind.MONTHLY, date(2026, 3, 2), jurisdiction.timezone)
    report = build_report(logs, month, AT + timedelta(days=40), jurisdiction, calendar, kb=kb)
    assert report.dispositions == {"派单": 1, "即办": 3, "转办": 0, "待人工派单": 0}
    assert report.instant_rate == 0.75
    assert report.kb_used == (
        KbUse("gjj-withdraw-retirement", "退休提取住房公积金", "市住房公积金管理部", 2, 1, False),
        KbUse("gjj-old-rule", "（已下架或不存在）", "—", 1, 0, True),
    )
    assert report.kb_out_of_date == (
        KbUse("gjj-stale", "旧的提取办法", "市住房公积金管理部", 0, 0, True, date(2025, 12, 31)),
    )
    assert report_dict(report)["instant_rate"] == 0.75
    html = render_html(report, AT + timedelta(days=40))
    assert (
        "七、即办与知识库" in html
        and "即办率 75.0%" in html
        and "旧的提取办法（市住房公积金管理部，2025-12-31止）" in html
    )
