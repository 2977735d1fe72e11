"""Property tests: random command sequences, from units and the control room, keep the
lifecycle's invariants."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.ticket.fold import AssignmentStatus, TicketState, TicketStatus, replay
from schemas.appeal import Caller
from schemas.commands import TicketCommand
from schemas.events import TicketCompleted, TicketEvent
from tests.unit.test_lifecycle import APPEAL, UNIT_TYPES, Desk, substance, triage

UNITS = ("zjj", "baimaqiao", "cgj", "gsgs")
OUTCOMES = ("satisfied", "basically_satisfied", "no_comment", "dissatisfied", "unreachable")
EXTRAS = ("4wh", "2wd", "9wd", "48h")
RETURN_CODES = ("not_our_duty", "wrong_town", "lacks_power", "other")

unit_options = st.fixed_dictionaries(
    {
        "extra": st.sampled_from(EXTRAS),
        "reason_code": st.sampled_from(RETURN_CODES),
        "suggested_unit": st.sampled_from((None, *UNITS)),
    }
)
unit_steps = st.tuples(
    st.just("unit"),
    st.sampled_from(sorted(UNIT_TYPES)),
    # Who acts, resolved against the ticket at that moment, so that sequences get far.
    st.sampled_from(("lead", "lead", "lead", "co", "other")),
    unit_options,
)
control_options = st.fixed_dictionaries(
    {
        "lead": st.sampled_from((None, *UNITS)),
        "outcome": st.sampled_from(OUTCOMES),
        "citizen": st.sampled_from((None, "phone:m1")),
        "extra": st.sampled_from((None, *EXTRAS)),
    }
)
control_steps = st.tuples(
    st.just("control"),
    st.sampled_from(
        (
            "dispatch",
            "redispatch",
            "deny_return",
            "grant_extension",
            "deny_extension",
            "callback",
            "rework",
            "judge_unreasonable",
            "close",
            "merge",
        )
    ),
    st.sampled_from(("control_room", "control_room", "supervisor", "system")),
    control_options,
)
steps = st.lists(st.one_of(unit_steps, control_steps, st.just(("repeat", "", "", {}))), max_size=60)
starts = st.sampled_from(("dispatched", "manual", "single"))


def _command(desk: Desk, step: tuple[str, str, str, dict[str, Any]]) -> TicketCommand:
    source, kind, who, options = step
    if source == "unit":
        chosen = {k: v for k, v in options.items() if k in _UNIT_OPTIONS.get(kind, ())}
        return desk.unit(kind, _unit(desk.state, who), **chosen)
    reason = {"reason": "理由"}
    fields: dict[str, Any] = {
        "dispatch": {"lead": options["lead"] or "zjj"},
        "redispatch": {"lead": options["lead"], **reason},
        "deny_return": reason,
        "grant_extension": {"extra": options["extra"]},
        "deny_extension": reason,
        "callback": {"outcome": options["outcome"], "citizen": options["citizen"]},
        "rework": reason,
        "judge_unreasonable": reason,
        "close": reason,
        "merge": {
            "source_ticket_id": "M1",
            "source_appeal": APPEAL.model_copy(
                update={"source_id": "m1", "caller": Caller(phone="13800001111")}
            ),
        },
    }[kind]
    return desk.control(kind, who, **fields)


_UNIT_OPTIONS = {"request_extension": ("extra",), "return": ("reason_code", "suggested_unit")}


def _unit(state: TicketState, who: str) -> str:
    held = [a.unit for a in state.assignments if a.role == ("co" if who == "co" else "lead")]
    if who != "other" and held:
        return held[0]
    return next(u for u in UNITS if state.assignment(u) is None)


def _start(kind: str) -> Desk:
    if kind == "manual":
        return Desk(triage(disposition="manual", lead=None, co=()))
    return Desk(triage(co=() if kind == "single" else ("baimaqiao",)))


def _check_invariants(state: TicketState, log: list[TicketEvent]) -> None:
    leads = [a for a in state.assignments if a.role == "lead"]
    assert len(leads) <= 1, "one lead at a time"
    active = [a.unit for a in leads if a.status != AssignmentStatus.RETURNED]
    assert state.lead == (active[0] if active else None)
    assert state.lead not in state.co and len(set(state.co)) == len(state.co)
    assert [a.unit for a in state.assignments if a.role == "co"] == list(state.co)
    assert state.version == len(log) and [e.version for e in log] == list(range(1, len(log) + 1))
    if state.status in (TicketStatus.SIGNED, TicketStatus.COMPLETED):
        assert state.lead is not None and state.signed_at is not None
    assert (state.status == TicketStatus.CLOSED) == (
        log[-1].type == "ticket_closed" or state.closed_at is not None
    )


def _signed_before_each_completion(log: list[TicketEvent]) -> None:
    """No completion before signing: since the ticket last went to its units, its lead signed."""
    signed: set[str] = set()
    for event in log:
        if event.type in ("ticket_dispatched", "ticket_redispatched", "ticket_reworked"):
            signed = set()
        elif event.type == "order_signed" and event.role == "lead":
            signed.add(event.unit)
        elif isinstance(event, TicketCompleted):
            assert event.unit in signed, f"{event.unit} completed without signing"


# The moves that fit each status: drawn most of the time, so that sequences get far into the
# lifecycle; the rest of the time any command at all, from anyone.
FITTING: dict[TicketStatus, tuple[tuple[str, str, str], ...]] = {
    TicketStatus.MANUAL: (("control", "dispatch", "control_room"), ("control", "close", "control_room")),
    TicketStatus.DISPATCHED: (
        ("unit", "sign", "lead"),
        ("unit", "sign", "lead"),
        ("unit", "sign", "co"),
        ("unit", "return", "lead"),
        ("unit", "return", "co"),
        ("control", "redispatch", "control_room"),
        ("control", "merge", "system"),
    ),
    TicketStatus.SIGNED: (
        ("unit", "complete", "lead"),
        ("unit", "complete", "lead"),
        ("unit", "request_extension", "lead"),
        ("unit", "note_progress", "lead"),
        ("unit", "report_part", "co"),
        ("unit", "sign", "co"),
        ("unit", "return", "lead"),
        ("control", "grant_extension", "control_room"),
        ("control", "deny_extension", "control_room"),
        ("control", "redispatch", "control_room"),
    ),
    TicketStatus.RETURNED: (
        ("control", "redispatch", "control_room"),
        ("control", "deny_return", "control_room"),
        ("control", "close", "control_room"),
    ),
    TicketStatus.COMPLETED: (
        ("control", "callback", "control_room"),
        ("control", "callback", "control_room"),
        ("control", "close", "control_room"),
    ),
    TicketStatus.DISSATISFIED: (
        ("control", "rework", "control_room"),
        ("control", "judge_unreasonable", "supervisor"),
    ),
}


def _draw_step(data: st.DataObject, state: TicketState) -> tuple[str, str, str, dict[str, Any]]:
    fitting = FITTING.get(state.status, ())
    if fitting and data.draw(st.integers(0, 9)) < 8:
        source, kind, who = data.draw(st.sampled_from(fitting))
        options = data.draw(unit_options if source == "unit" else control_options)
        return (source, kind, who, options)
    return data.draw(st.one_of(unit_steps, control_steps, st.just(("repeat", "", "", {}))))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start=starts, length=st.integers(0, 60), data=st.data())
def test_random_command_sequences_keep_the_lifecycle_invariants(
    start: str, length: int, data: st.DataObject
) -> None:
    desk = _start(start)
    issued: list[TicketCommand] = []
    for _ in range(length):
        step = _draw_step(data, desk.state)
        if step[0] == "repeat":
            if not issued:
                continue
            # A command seen again (a crash, a rebalance, a unit resending) changes nothing.
            before = desk.state
            assert desk.run(issued[-1]).events == () and desk.state == before
            continue
        command = _command(desk, step)
        issued.append(command)
        before_state = desk.state
        decision = desk.run(command)
        assert decision.events, "every command ends as events or a rejection"
        if decision.rejected:
            assert len(decision.events) == 1, "a rejection is all a rejected command produces"
            assert substance(desk.state) == substance(before_state), "a rejection changes nothing"
            assert desk.state.rejected_commands == before_state.rejected_commands + 1
        _check_invariants(desk.state, desk.log)
    _signed_before_each_completion(desk.log)
    assert replay(desk.log) == desk.state, "the fold of the log rebuilds the state"


@settings(max_examples=150, deadline=None)
@given(plan=steps)
def test_a_closed_ticket_accepts_nothing_more(plan: list[tuple[str, str, str, dict[str, Any]]]) -> None:
    desk = Desk()
    desk.act("sign", "zjj")
    desk.act("complete", "zjj")
    desk.decide_("callback", outcome="satisfied")
    closed = substance(desk.state)
    for step in plan:
        if step[0] != "repeat":
            decision = desk.run(_command(desk, step))
            assert [e.type for e in decision.events] == ["command_rejected"]
    assert substance(desk.state) == closed
