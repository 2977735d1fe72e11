"""Whistles (街乡吹哨): a town's own, the automatic ones, report-in clocks per called unit,
and a late unit flagged, alerted and escalated."""

from __future__ import annotations

from domain.ticket import order_messages
from domain.ticket.fold import replay
from domain.time_limits import timing_alerts
from schemas.events import WhistleBlown
from schemas.limits import Mark
from tests.unit.timertools import COUNTY, TimedDesk, other_appeal, shown, triage

FRIDAY = "Fri 2026-09-18 16:00"
SAND = triage(category="resource.sand", lead="slj", co=("zrzyj", "lyj", "cgj", "meitanba"), town="meitanba")
STREET_VENDOR = triage(category="vendor.street", lead="baimaqiao", co=("cgj",), town="baimaqiao")


def test_a_town_whistles_departments_in_and_each_gets_a_report_in_clock_and_a_whistle_order() -> None:
    desk = TimedDesk(FRIDAY)
    blown = desk.act(FRIDAY, "whistle", "baimaqiao", units=("cgj", "sthjj"), reason="污水来源需执法")
    assert blown == ["whistle_blown"]
    # normal: 1wd, Fri 16:00 → the make-up Sunday 09-20 16:00.
    assert {k: v for k, v in desk.due().items() if k.startswith("report_in")} == {
        "report_in.cgj": "Sun 2026-09-20 16:00:00",
        "report_in.sthjj": "Sun 2026-09-20 16:00:00",
    }
    whistle = desk.state.whistles[0]
    assert (whistle.whistle_id, whistle.town, whistle.units, whistle.trigger) == (
        "T1:w1",
        "baimaqiao",
        ("cgj", "sthjj"),
        "town",
    )
    event = desk.log[-1]
    orders = order_messages(replay(desk.log[:-1]), desk.state, event, COUNTY)
    assert [(o.unit, o.kind, o.whistle_id, [c.key for c in o.deadlines]) for o in orders] == [
        ("cgj", "whistle", "T1:w1", ["report_in.cgj"]),
        ("sthjj", "whistle", "T1:w1", ["report_in.sthjj"]),
    ]
    assert [a.kind for a in timing_alerts((event,))] == ["whistle"]


def test_reporting_in_stops_that_units_clock_and_is_recorded_once() -> None:
    desk = TimedDesk(FRIDAY)
    desk.act(FRIDAY, "whistle", "baimaqiao", units=("cgj", "sthjj"), reason="污水来源需执法")
    assert desk.act("Mon 2026-09-21 09:00", "report_in", "cgj", note="已到场") == ["unit_reported_in"]
    assert desk.state.whistles[0].reported == ("cgj",)
    assert desk.state.whistles[0].waiting == ("sthjj",)
    assert "report_in.cgj" not in desk.due() and "report_in.sthjj" in desk.due()
    assert desk.act("Mon 2026-09-21 09:05", "report_in", "cgj") == ["command_rejected"]
    assert desk.log[-1].model_dump()["reason"] == "unit cgj has already reported in"


def test_only_a_town_holding_the_ticket_whistles_and_only_a_called_unit_reports_in() -> None:
    desk = TimedDesk(FRIDAY)
    assert desk.act(FRIDAY, "whistle", "zjj", units=("cgj",), reason="x") == ["command_rejected"]
    assert desk.log[-1].model_dump()["violation"] == "authorization"
    assert desk.act(FRIDAY, "whistle", "yutan", units=("cgj",), reason="x") == ["command_rejected"]
    assert desk.log[-1].model_dump()["violation"] == "authorization"
    assert desk.act(FRIDAY, "whistle", "baimaqiao", units=("nobody",), reason="x") == ["command_rejected"]
    assert desk.log[-1].model_dump()["violation"] == "state"
    assert desk.act(FRIDAY, "report_in", "cgj") == ["command_rejected"]
    assert desk.log[-1].model_dump()["violation"] == "authorization"
    assert desk.state.whistles == ()


def test_a_dispatch_to_a_category_with_several_co_departments_whistles_by_itself() -> None:
    desk = TimedDesk(FRIDAY, SAND)
    assert [e.type for e in desk.log] == ["ticket_received", "ticket_dispatched", "whistle_blown"]
    whistle = desk.log[-1]
    assert isinstance(whistle, WhistleBlown)
    assert (whistle.town, whistle.units, whistle.trigger, whistle.version) == (
        "meitanba",
        ("zrzyj", "lyj", "cgj"),
        "co_units",
        3,
    )
    assert whistle.reason == "多部门协同处置：非法采砂洗砂"


def test_an_urgent_whistle_in_a_rural_town_gives_two_hours_to_report_in() -> None:
    desk = TimedDesk(FRIDAY, SAND.model_copy(update={"urgency": "urgent"}))
    assert desk.due()["report_in.cgj"] == "Fri 2026-09-18 18:00:00"


def test_a_town_returning_for_lack_of_power_whistles_the_departments_of_the_route() -> None:
    desk = TimedDesk(FRIDAY, STREET_VENDOR)
    returned = desk.act(
        "Fri 2026-09-18 16:30",
        "return",
        "baimaqiao",
        reason_code="lacks_power",
        reason="无执法权，需城管到场",
    )
    assert returned == ["order_returned", "whistle_blown"]
    whistle = desk.state.whistles[0]
    assert (whistle.town, whistle.units, whistle.trigger) == ("baimaqiao", ("cgj",), "lacks_power")


def test_a_town_led_ticket_going_overdue_whistles_once() -> None:
    desk = TimedDesk(FRIDAY, STREET_VENDOR)
    assert desk.flag("Sun 2026-09-20 09:30", "sign", Mark.OVERDUE) == ["limit_overdue", "whistle_blown"]
    assert desk.state.whistles[0].trigger == "overdue"
    desk.act("Sun 2026-09-20 10:00", "sign", "baimaqiao")
    assert desk.flag("Thu 2026-09-24 16:00", "complete", Mark.OVERDUE) == ["limit_overdue"]
    assert len(desk.state.whistles) == 1


def test_a_unit_that_does_not_report_in_is_flagged_late_alerted_and_escalated() -> None:
    desk = TimedDesk(FRIDAY, SAND)
    clock = desk.clock("report_in.lyj")
    assert (clock.unit, shown(clock.escalate_at)) == ("lyj", "Mon 2026-09-21 16:00:00")
    assert desk.flag("Sun 2026-09-20 16:00", "report_in.lyj", Mark.OVERDUE) == ["limit_overdue"]
    assert desk.state.whistles[0].late == ("lyj",)
    alerts = timing_alerts((desk.log[-1],))
    assert [(a.kind, a.severity, a.unit, a.message) for a in alerts] == [
        ("overdue", "critical", "lyj", "工单 T1 报到时限已超期（lyj）")
    ]
    assert desk.flag("Mon 2026-09-21 16:00", "report_in.lyj", Mark.SUPERVISE) == ["ticket_supervised"]
    assert [a.kind for a in timing_alerts((desk.log[-1],))] == ["supervise"]
    # Reporting in late still counts as reported; the lateness stays on record.
    assert desk.act("Mon 2026-09-21 16:30", "report_in", "lyj") == ["unit_reported_in"]
    assert (desk.state.whistles[0].reported, desk.state.whistles[0].late) == (("lyj",), ("lyj",))


def merge(desk: TimedDesk, at: str, source: str, received: str) -> list[str]:
    return desk.control(at, "merge", source_ticket_id=source, source_appeal=other_appeal(source, received))


def test_a_third_appeal_on_the_same_problem_within_72_hours_whistles_once() -> None:
    desk = TimedDesk(FRIDAY)
    assert merge(desk, "Sat 2026-09-19 10:00", "T2", "Sat 2026-09-19 09:00") == ["appeal_merged"]
    assert merge(desk, "Mon 2026-09-21 10:00", "T3", "Mon 2026-09-21 09:30") == [
        "appeal_merged",
        "whistle_blown",
    ]
    whistle = desk.state.whistles[0]
    assert (whistle.town, whistle.units, whistle.trigger) == ("baimaqiao", ("zjj",), "cluster")
    assert whistle.reason == "多人反映：3 件同类诉求（下水道堵塞污水外溢）"
    assert merge(desk, "Mon 2026-09-21 11:00", "T4", "Mon 2026-09-21 10:30") == ["appeal_merged"]


def test_appeals_spread_over_more_than_72_hours_are_no_cluster() -> None:
    desk = TimedDesk(FRIDAY)
    merge(desk, "Sat 2026-09-19 10:00", "T2", "Sat 2026-09-19 09:00")
    assert merge(desk, "Tue 2026-09-22 10:00", "T3", "Mon 2026-09-21 16:01") == ["appeal_merged"]
    assert desk.state.whistles == ()
