"""Every running clock of a ticket, recomputed on each event the ticket agent records, with
the sample county's limits across weekends, holidays, make-up days, urban and rural towns,
extension and rework; and the timers' marks recorded exactly once."""

from __future__ import annotations

import pytest

from domain.ticket import order_messages
from domain.ticket.fold import TicketStatus, replay
from schemas.events import LimitAtRisk, TicketDispatched
from schemas.limits import ClockKind, Mark
from tests.unit.timertools import COUNTY, TimedDesk, local, shown, triage

# Friday 2026-09-18 16:00: Sunday 09-20 is a make-up working day, Friday 09-25 is Mid-Autumn
# and 10-01..10-07 National Day (Saturday 10-10 worked).
FRIDAY = "Fri 2026-09-18 16:00"


def test_a_normal_dispatch_carries_its_sign_and_complete_clocks_on_the_event_and_in_the_state() -> None:
    desk = TimedDesk(FRIDAY)
    dispatched = desk.log[-1]
    assert isinstance(dispatched, TicketDispatched) and dispatched.clocks is not None
    assert [(c.key, c.unit, c.version, shown(c.due_at)) for c in dispatched.clocks] == [
        ("sign", "zjj", 2, "Sun 2026-09-20 09:30:00"),
        ("complete", "zjj", 2, "Thu 2026-09-24 16:00:00"),
    ]
    assert desk.state.clocks == dispatched.clocks
    assert desk.log[0].clocks is None  # the received ticket runs no clock yet


@pytest.mark.parametrize(
    ("town", "urgency", "expected"),
    [
        (
            "baimaqiao",
            "emergency",
            {
                "sign": "Fri 2026-09-18 16:10:00",
                "on_scene": "Fri 2026-09-18 16:30:00",
                "complete": "Sat 2026-09-19 16:00:00",
            },
        ),
        (
            "meitanba",
            "emergency",
            {
                "sign": "Fri 2026-09-18 16:10:00",
                "on_scene": "Fri 2026-09-18 18:00:00",
                "complete": "Sat 2026-09-19 16:00:00",
            },
        ),
        ("meitanba", "urgent", {"sign": "Fri 2026-09-18 16:30:00", "complete": "Sat 2026-09-19 16:00:00"}),
    ],
    ids=["emergency_urban_30min_on_scene", "emergency_rural_120min_on_scene", "urgent_no_on_scene"],
)
def test_on_scene_runs_for_emergencies_by_the_towns_kind(
    town: str, urgency: str, expected: dict[str, str]
) -> None:
    desk = TimedDesk(FRIDAY, triage(urgency=urgency, town=town, co=(town,)))
    assert desk.due() == expected


def test_signing_stops_the_sign_clock_and_the_leads_first_progress_stops_on_scene() -> None:
    desk = TimedDesk(FRIDAY, triage(urgency="emergency", town="meitanba", co=("meitanba",)))
    assert desk.act("Fri 2026-09-18 16:05", "sign", "zjj") == ["order_signed"]
    assert set(desk.due()) == {"on_scene", "complete"}
    assert desk.act("Fri 2026-09-18 16:40", "sign", "meitanba") == ["order_signed"]
    assert set(desk.due()) == {"on_scene", "complete"}  # a co unit's signature stops nothing
    assert desk.act("Fri 2026-09-18 17:10", "note_progress", "zjj", note="已到现场") == ["progress_noted"]
    assert set(desk.due()) == {"complete"}


def test_an_extension_runs_the_complete_clock_on_across_mid_autumn_as_a_new_limit_version() -> None:
    desk = TimedDesk(FRIDAY)
    desk.act("Mon 2026-09-21 09:00", "sign", "zjj")
    before = desk.clock("complete")
    desk.act("Mon 2026-09-21 10:00", "request_extension", "zjj", extra="3wd", reason="需协调施工队")
    assert desk.control("Mon 2026-09-21 11:00", "grant_extension") == ["extension_granted"]
    extended = desk.clock("complete")
    # Thu 09-24 16:00 + 3wd: Fri 09-25 (Mid-Autumn) and the weekend skipped.
    assert shown(extended.due_at) == "Wed 2026-09-30 16:00:00"
    assert (extended.extensions, extended.version, extended.started_at) == (("3wd",), 5, before.started_at)
    assert extended.version != before.version


def test_an_extension_beyond_the_maximum_adds_the_maximum_across_national_day() -> None:
    desk = TimedDesk(FRIDAY)
    desk.act("Mon 2026-09-21 09:00", "sign", "zjj")
    desk.act("Mon 2026-09-21 10:00", "request_extension", "zjj", extra="10wd", reason="工程量大")
    desk.control("Mon 2026-09-21 11:00", "grant_extension")
    # 5wd from Thu 09-24 16:00: 09-28, 09-29, 09-30, then 10-08, 10-09.
    assert desk.due() == {"complete": "Fri 2026-10-09 16:00:00"}
    assert desk.clock("complete").extensions == ("5wd",)


def test_completion_starts_the_callback_clock_which_counts_from_after_national_day() -> None:
    desk = TimedDesk(FRIDAY)
    desk.act("Mon 2026-09-21 09:00", "sign", "zjj")
    assert desk.act("Tue 2026-09-29 10:00", "complete", "zjj", reply="已疏通") == ["ticket_completed"]
    callback = desk.clock("callback")
    assert (callback.unit, shown(callback.due_at)) == (None, "Thu 2026-10-08 10:00:00")


def test_rework_runs_sign_and_the_rework_limit_from_the_rework_and_closing_stops_everything() -> None:
    desk = TimedDesk(FRIDAY)
    desk.act("Mon 2026-09-21 09:00", "sign", "zjj")
    desk.act("Tue 2026-09-29 10:00", "complete", "zjj", reply="已疏通")
    assert desk.control("Tue 2026-09-29 11:00", "callback", outcome="dissatisfied") == ["callback_recorded"]
    assert desk.state.status == TicketStatus.DISSATISFIED and desk.state.clocks == ()
    assert desk.control("Tue 2026-09-29 12:00", "rework", reason="仍有污水") == ["ticket_reworked"]
    # 3wd from 12:00 on Tue 09-29: 09-30, 10-08, then Fri 10-09 at the same offset.
    assert desk.due() == {"sign": "Tue 2026-09-29 15:30:00", "complete": "Fri 2026-10-09 12:00:00"}
    assert desk.clock("complete").limit == "3wd"
    desk.act("Tue 2026-09-29 14:00", "sign", "zjj")
    desk.act("Thu 2026-10-08 10:00", "complete", "zjj", reply="已彻底疏通")
    assert desk.control("Thu 2026-10-08 11:00", "callback", outcome="satisfied") == [
        "callback_recorded",
        "ticket_closed",
    ]
    assert desk.state.clocks == ()


def test_a_dispatch_before_spring_festival_counts_the_make_up_saturday() -> None:
    desk = TimedDesk("Fri 2026-02-13 16:00")
    # 2wh: Fri 16:00-17:30, then Sat 02-14 (make-up working day) 09:00-09:30.
    assert desk.due() == {"sign": "Sat 2026-02-14 09:30:00", "complete": "Fri 2026-02-27 16:00:00"}


def test_a_mark_is_recorded_once_whatever_the_timers_send_again() -> None:
    desk = TimedDesk(FRIDAY)
    assert desk.flag("Fri 2026-09-18 17:30", "sign", Mark.AT_RISK) == ["limit_at_risk"]
    marked = desk.log[-1]
    assert isinstance(marked, LimitAtRisk)
    assert (marked.clock, marked.kind, marked.unit, marked.limit_version) == (
        "sign",
        ClockKind.SIGN,
        "zjj",
        2,
    )
    assert (shown(marked.mark_at), shown(marked.due_at)) == (
        "Fri 2026-09-18 17:30:00",
        "Sun 2026-09-20 09:30:00",
    )
    assert desk.clock("sign").fired == (Mark.AT_RISK,)
    version = desk.state.version
    # The same command again (a restarted timer), then a stale one for an older clock version.
    assert desk.flag("Fri 2026-09-18 17:31", "sign", Mark.AT_RISK) == []
    assert desk.flag("Fri 2026-09-18 17:31", "complete", Mark.AT_RISK, limit_version=1) == []
    assert desk.state.version == version
    assert desk.flag("Sun 2026-09-20 09:30", "sign", Mark.OVERDUE) == ["limit_overdue"]
    assert desk.flag("Mon 2026-09-21 09:30", "sign", Mark.SUPERVISE) == ["ticket_supervised"]
    assert desk.clock("sign").fired == (Mark.AT_RISK, Mark.OVERDUE, Mark.SUPERVISE)


def test_a_mark_for_a_clock_that_stopped_changes_nothing() -> None:
    desk = TimedDesk(FRIDAY)
    desk.act("Fri 2026-09-18 16:30", "sign", "zjj")
    version = desk.state.version
    assert desk.flag("Fri 2026-09-18 17:30", "sign", Mark.AT_RISK, limit_version=2) == []
    assert desk.state.version == version


def test_the_fold_of_the_log_rebuilds_the_same_clocks_without_the_calendar() -> None:
    desk = TimedDesk(FRIDAY)
    desk.act("Mon 2026-09-21 09:00", "sign", "zjj")
    desk.flag("Wed 2026-09-23 14:15", "complete", Mark.AT_RISK)
    desk.act("Mon 2026-09-21 10:00", "request_extension", "zjj", extra="2wd", reason="等材料")
    desk.control("Mon 2026-09-21 11:00", "grant_extension")
    assert replay(desk.log) == desk.state


def test_a_units_work_order_carries_its_own_deadlines_only() -> None:
    desk = TimedDesk(FRIDAY)
    before = replay(desk.log[:-1])
    orders = order_messages(before, desk.state, desk.log[-1], COUNTY)
    deadlines = {o.unit: [(c.key, shown(c.due_at)) for c in o.deadlines] for o in orders}
    assert deadlines == {
        "zjj": [("sign", "Sun 2026-09-20 09:30:00"), ("complete", "Thu 2026-09-24 16:00:00")],
        "baimaqiao": [],
    }


def test_clock_instants_are_utc_on_the_wire() -> None:
    desk = TimedDesk(FRIDAY)
    sign = desk.clock("sign")
    assert sign.due_at == local("Sun 2026-09-20 09:30") and sign.due_at.utcoffset() is not None
    assert '"due_at":"2026-09-20T01:30:00Z"' in desk.log[-1].model_dump_json()
