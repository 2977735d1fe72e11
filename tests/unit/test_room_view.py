"""The control room's view and queues: folded from events on top of a snapshot, idempotent
on versions, waiting past a gap; a unit's queues follow its orders and the timers' marks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.jurisdiction import Jurisdiction
from domain.room import RoomView, TicketFilter, find_tickets
from domain.room.board import board
from domain.room.clusters import clusters, repeat_callers
from domain.room.queues import QUEUES, town_queues, unit_queues
from schemas.appeal import Appeal, Caller
from schemas.events import (
    LimitAtRisk,
    LimitOverdue,
    OrderSigned,
    TicketCompleted,
    TicketDispatched,
    TicketEvent,
    TicketQueuedForManualDispatch,
    TicketReceived,
)
from schemas.limits import Clock, ClockKind, Mark
from schemas.triage import TriageDecision

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def header(ticket: str, version: int, minutes: float = 0) -> dict[str, object]:
    return {
        "event_id": f"{ticket}:{version}",
        "ticket_id": ticket,
        "version": version,
        "occurred_at": T0 + timedelta(minutes=minutes),
        "command_id": f"c:{ticket}:{version}",
    }


def clock(kind: ClockKind, unit: str | None, *fired: Mark) -> Clock:
    return Clock(
        kind=kind,
        unit=unit,
        started_at=T0,
        warn_at=T0 + timedelta(minutes=45),
        due_at=T0 + timedelta(hours=1),
        escalate_at=T0 + timedelta(hours=9),
        limit="1h",
        version=2,
        fired=fired,
    )


def received(ticket: str, phone: str = "13800001111", category: str = "drainage.sewer") -> TicketReceived:
    appeal = Appeal(
        channel="phone",
        source_id=ticket,
        received_at=T0,
        text="凤凰城小区下水道堵塞 <script>alert(1)</script>",
        caller=Caller(name="李女士", phone=phone),
    )
    triage = TriageDecision(
        appeal_type="help", category=category, urgency="normal", town="baimaqiao", disposition="dispatch",
        confidence=0.9, lead="zjj", co=("baimaqiao",),
    )  # fmt: skip
    return TicketReceived(**header(ticket, 1), appeal=appeal, triage=triage)


def dispatched(ticket: str) -> TicketDispatched:
    return TicketDispatched(
        **header(ticket, 2, 1),
        lead="zjj",
        co=("baimaqiao",),
        category="drainage.sewer",
        town="baimaqiao",
        urgency="normal",
        clocks=(clock(ClockKind.SIGN, "zjj"), clock(ClockKind.COMPLETE, "zjj")),
    )


def marked(ticket: str, version: int, event: type[LimitAtRisk | LimitOverdue], mark: Mark) -> TicketEvent:
    fired = (Mark.AT_RISK,) if mark == Mark.AT_RISK else (Mark.AT_RISK, Mark.OVERDUE)
    return event(
        **header(ticket, version, 60),
        clock="sign",
        kind=ClockKind.SIGN,
        unit="zjj",
        limit_version=2,
        due_at=T0 + timedelta(hours=1),
        mark_at=T0 + timedelta(hours=1),
        clocks=(clock(ClockKind.SIGN, "zjj", *fired), clock(ClockKind.COMPLETE, "zjj")),
    )


def view_of(*events: TicketEvent) -> RoomView:
    view = RoomView(day_start=T0 - timedelta(hours=1), timezone="Asia/Shanghai")
    for event in events:
        view.apply(event)
    return view


def counts(view: RoomView, unit: str) -> dict[str, int]:
    return unit_queues(view.tickets.values())[unit].counts


def test_a_dispatched_ticket_waits_for_its_lead_and_co_unit_to_sign() -> None:
    view = view_of(received("a"), dispatched("a"), received("b"), dispatched("b"))
    assert counts(view, "zjj") == {
        "awaiting_sign": 2,
        "in_progress": 0,
        "at_risk": 0,
        "overdue": 0,
        "awaiting_callback": 0,
    }
    assert counts(view, "baimaqiao")["awaiting_sign"] == 2
    assert town_queues(view.tickets.values())["baimaqiao"].counts["awaiting_sign"] == 2  # once per ticket


def test_the_timers_marks_make_a_ticket_at_risk_then_overdue_for_its_unit() -> None:
    view = view_of(received("a"), dispatched("a"), marked("a", 3, LimitAtRisk, Mark.AT_RISK))
    assert (counts(view, "zjj")["at_risk"], counts(view, "zjj")["overdue"]) == (1, 0)
    assert counts(view, "baimaqiao")["at_risk"] == 0  # the co unit runs no clock of its own here
    view.apply(marked("a", 4, LimitOverdue, Mark.OVERDUE))
    assert (counts(view, "zjj")["at_risk"], counts(view, "zjj")["overdue"]) == (0, 1)
    assert counts(view, "zjj")["awaiting_sign"] == 1


def test_signing_moves_the_order_to_in_progress_and_completion_to_awaiting_callback() -> None:
    signed = OrderSigned(**header("a", 3, 2), unit="zjj", role="lead")
    view = view_of(received("a"), dispatched("a"), signed)
    assert counts(view, "zjj")["in_progress"] == 1
    completed = TicketCompleted(**header("a", 4, 3), unit="zjj", reply="已疏通", clocks=())
    view.apply(completed)
    assert counts(view, "zjj") == dict.fromkeys(QUEUES, 0) | {"awaiting_callback": 1}
    assert view.tickets["a"].on_time is True


def test_an_event_seen_twice_changes_nothing_and_one_past_a_gap_waits_for_a_reload() -> None:
    view = view_of(received("a"), dispatched("a"))
    assert view.apply(dispatched("a")) is False
    late = OrderSigned(**header("a", 4, 3), unit="zjj", role="lead")
    assert view.apply(late) is False
    assert view.waiting == {"a": [late]}
    orphan = OrderSigned(**header("z", 3, 3), unit="zjj", role="lead")
    assert view.apply(orphan) is False and "z" in view.waiting
    reloaded = view_of(received("a"), dispatched("a"), marked("a", 3, LimitAtRisk, Mark.AT_RISK)).tickets["a"]
    view.reload(reloaded)
    assert view.tickets["a"].state.version == 4 and "a" not in view.waiting
    assert counts(view, "zjj")["in_progress"] == 1


def test_a_manual_ticket_is_on_the_board_with_its_reason_and_the_route_of_the_best_guess(
    jurisdiction: Jurisdiction,
) -> None:
    queued = TicketQueuedForManualDispatch(**header("m", 2), reason="属地不明")
    view = view_of(received("m"), queued)
    shown = board(view, T0, jurisdiction)
    assert shown.manual_total == 1
    item = shown.manual[0]
    assert (item.ticket_id, item.reason, item.suggested_lead, item.suggested_co) == (
        "m",
        "属地不明",
        "zjj",
        ("baimaqiao",),
    )
    assert item.text == "凤凰城小区下水道堵塞 <script>alert(1)</script>"  # kept as text; the browser escapes


def test_the_list_filters_by_unit_queue_and_text() -> None:
    view = view_of(
        received("a"),
        dispatched("a"),
        marked("a", 3, LimitAtRisk, Mark.AT_RISK),
        received("b"),
        dispatched("b"),
    )
    found = find_tickets(view.tickets.values(), TicketFilter(unit="zjj", status="at_risk"))
    assert [row.ticket_id for row in found] == ["a"]
    assert [r.ticket_id for r in find_tickets(view.tickets.values(), TicketFilter(text="SCRIPT"))] == [
        "b",
        "a",
    ]
    assert find_tickets(view.tickets.values(), TicketFilter(town="yutan")) == []


@pytest.mark.parametrize(
    ("phones", "repeats"), [(("13800001111", "13800001111", "13900002222"), 1), (("1", "2", "3"), 0)]
)
def test_repeat_callers_and_clusters(phones: tuple[str, ...], repeats: int) -> None:
    events: list[TicketEvent] = []
    for i, phone in enumerate(phones):
        events += [received(f"t{i}", phone=phone), dispatched(f"t{i}")]
    view = view_of(*events)
    found = repeat_callers(view.tickets.values())
    assert len(found) == repeats
    if repeats:
        assert (found[0].phone_masked, found[0].count) == ("138****1111", 2)
    assert [(c.category, c.town, c.size) for c in clusters(view.tickets.values(), T0)] == [
        ("drainage.sewer", "baimaqiao", 3)
    ]
