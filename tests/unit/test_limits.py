"""A ticket's clocks, from the sample county's own time limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypedDict
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.jurisdiction import Duration, Jurisdiction, TownKind, Urgency, parse_jurisdiction
from domain.time_limits import WorkingCalendar
from domain.time_limits.clocks import (
    Clock,
    ClockKind,
    Mark,
    callback_clock,
    dispatch_clocks,
    due_marks,
    extend,
    next_mark_at,
    report_in_clock,
    rework_clock,
)
from infra.holidays import national_holidays

SHANGHAI = ZoneInfo("Asia/Shanghai")
SAMPLE = Path(__file__).parents[2] / "data" / "jurisdiction" / "sample-county.yaml"
COUNTY: Jurisdiction = parse_jurisdiction(yaml.safe_load(SAMPLE.read_text(encoding="utf-8")))
CALENDAR = WorkingCalendar.for_jurisdiction(COUNTY, national_holidays())


class Rules(TypedDict):
    jurisdiction: Jurisdiction
    calendar: WorkingCalendar


RULES: Rules = {"jurisdiction": COUNTY, "calendar": CALENDAR}


def local(text: str) -> datetime:
    """`Fri 2026-09-18 16:00[:30]` in Shanghai; the weekday keeps the tables honest."""
    weekday, rest = text.split(" ", 1)
    pattern = "%Y-%m-%d %H:%M:%S" if rest.count(":") == 2 else "%Y-%m-%d %H:%M"
    moment = datetime.strptime(rest, pattern).replace(tzinfo=SHANGHAI)
    assert moment.strftime("%a") == weekday, f"{text} is a {moment.strftime('%a')}"
    return moment


def shown(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%a %Y-%m-%d %H:%M:%S")


def marks(clock: Clock) -> tuple[str, str, str, str]:
    """(limit, warn_at, due_at, escalate_at) in local time, for compact tables."""
    return (clock.limit, shown(clock.warn_at), shown(clock.due_at), shown(clock.escalate_at))


def expect(limit: str, warn: str, due: str, escalate: str) -> tuple[str, str, str, str]:
    return (limit, shown(local(warn)), shown(local(due)), shown(local(escalate)))


# Friday 2026-09-18 16:00: Sunday 09-20 is a make-up working day and Friday 09-25 is Mid-Autumn.
FRIDAY = "Fri 2026-09-18 16:00"


@pytest.mark.parametrize(
    ("urgency", "town_kind", "expected"),
    [
        (
            "normal",
            "urban",
            {
                ClockKind.SIGN: expect(
                    "2wh", "Fri 2026-09-18 17:30", "Sun 2026-09-20 09:30", "Mon 2026-09-21 09:30"
                ),
                ClockKind.COMPLETE: expect(
                    "5wd", "Wed 2026-09-23 14:15", "Thu 2026-09-24 16:00", "Mon 2026-09-28 16:00"
                ),
            },
        ),
        (
            "urgent",
            "rural",
            {
                ClockKind.SIGN: expect(
                    "30min", "Fri 2026-09-18 16:22:30", "Fri 2026-09-18 16:30", "Sun 2026-09-20 16:30"
                ),
                ClockKind.COMPLETE: expect(
                    "24h", "Sat 2026-09-19 10:00", "Sat 2026-09-19 16:00", "Sun 2026-09-20 17:30"
                ),
            },
        ),
        (
            "emergency",
            "urban",
            {
                ClockKind.SIGN: expect(
                    "10min", "Fri 2026-09-18 16:07:30", "Fri 2026-09-18 16:10", "Sun 2026-09-20 16:10"
                ),
                ClockKind.ON_SCENE: expect(
                    "30min", "Fri 2026-09-18 16:22:30", "Fri 2026-09-18 16:30", "Sun 2026-09-20 16:30"
                ),
                ClockKind.COMPLETE: expect(
                    "24h", "Sat 2026-09-19 10:00", "Sat 2026-09-19 16:00", "Sun 2026-09-20 17:30"
                ),
            },
        ),
        (
            "emergency",
            "rural",
            {
                ClockKind.SIGN: expect(
                    "10min", "Fri 2026-09-18 16:07:30", "Fri 2026-09-18 16:10", "Sun 2026-09-20 16:10"
                ),
                ClockKind.ON_SCENE: expect(
                    "120min", "Fri 2026-09-18 17:30", "Fri 2026-09-18 18:00", "Sun 2026-09-20 17:30"
                ),
                ClockKind.COMPLETE: expect(
                    "24h", "Sat 2026-09-19 10:00", "Sat 2026-09-19 16:00", "Sun 2026-09-20 17:30"
                ),
            },
        ),
    ],
)
def test_a_dispatch_starts_sign_on_scene_and_complete_clocks_for_the_lead_unit(
    urgency: Urgency, town_kind: TownKind, expected: dict[ClockKind, tuple[str, str, str, str]]
) -> None:
    clocks = dispatch_clocks(urgency, town_kind, local(FRIDAY), "zjj", **RULES)
    assert {clock.kind: marks(clock) for clock in clocks} == expected
    assert [clock.kind for clock in clocks] == list(expected)
    assert {(clock.unit, clock.started_at) for clock in clocks} == {("zjj", local(FRIDAY))}


def test_a_normal_dispatch_before_national_day_runs_on_after_the_break() -> None:
    sign, complete = dispatch_clocks("normal", "rural", local("Wed 2026-09-30 16:00"), "slj", **RULES)
    assert marks(sign) == expect(
        "2wh", "Wed 2026-09-30 17:30", "Thu 2026-10-08 09:30", "Fri 2026-10-09 09:30"
    )
    # 10-08 (1), 10-09 (2), make-up Saturday 10-10 (3), 10-12 (4), 10-13 (5).
    assert marks(complete) == expect(
        "5wd", "Mon 2026-10-12 14:15", "Tue 2026-10-13 16:00", "Wed 2026-10-14 16:00"
    )


def test_a_normal_dispatch_before_spring_festival_counts_both_make_up_saturdays() -> None:
    sign, complete = dispatch_clocks("normal", "urban", local("Fri 2026-02-13 10:00"), "cgj", **RULES)
    assert marks(sign) == expect(
        "2wh", "Fri 2026-02-13 11:30", "Fri 2026-02-13 12:00", "Sat 2026-02-14 12:00"
    )
    # 02-14 (1), 02-24 (2), 02-25 (3), 02-26 (4), 02-27 (5); escalation on make-up Saturday 02-28.
    assert marks(complete) == expect(
        "5wd", "Wed 2026-02-25 16:45", "Fri 2026-02-27 10:00", "Sat 2026-02-28 10:00"
    )


def test_an_emergency_with_no_known_town_gets_the_shorter_urban_on_scene_limit() -> None:
    clocks = dispatch_clocks("emergency", None, local(FRIDAY), "yjglj", **RULES)
    on_scene = next(clock for clock in clocks if clock.kind is ClockKind.ON_SCENE)
    assert (on_scene.limit, on_scene.due_at) == ("30min", local("Fri 2026-09-18 16:30"))


def test_clocks_are_stored_in_utc() -> None:
    clocks = dispatch_clocks("normal", "urban", local(FRIDAY), "zjj", **RULES)
    for clock in clocks:
        for moment in (clock.started_at, clock.warn_at, clock.due_at, clock.escalate_at):
            assert moment.utcoffset() == timedelta(0)
    assert clocks[0].started_at == datetime(2026, 9, 18, 8, 0, tzinfo=UTC)


def test_a_callback_after_a_completion_on_a_holiday_counts_from_the_first_working_day() -> None:
    clock = callback_clock(local("Thu 2026-10-01 11:00"), **RULES)
    assert (clock.kind, clock.unit) == (ClockKind.CALLBACK, None)
    assert marks(clock) == expect(
        "2wd", "Fri 2026-10-09 14:00", "Fri 2026-10-09 17:30", "Sat 2026-10-10 17:30"
    )


def test_rework_restarts_the_completion_clock_with_the_rework_limit() -> None:
    clock = rework_clock(local("Mon 2026-06-15 10:00"), "zjj", **RULES)
    assert (clock.kind, clock.unit) == (ClockKind.COMPLETE, "zjj")
    # Dragon Boat Festival: Friday 06-19 off, so escalation waits for Monday.
    assert marks(clock) == expect(
        "3wd", "Wed 2026-06-17 11:45", "Thu 2026-06-18 10:00", "Mon 2026-06-22 10:00"
    )


@pytest.mark.parametrize(
    ("urgency", "town_kind", "expected"),
    [
        (
            "urgent",
            "urban",
            expect("30min", "Wed 2026-09-30 17:22:30", "Wed 2026-09-30 17:30", "Thu 2026-10-08 17:30"),
        ),
        (
            "urgent",
            "rural",
            expect("120min", "Wed 2026-09-30 18:30", "Wed 2026-09-30 19:00", "Thu 2026-10-08 17:30"),
        ),
        (
            "emergency",
            "rural",
            expect("120min", "Wed 2026-09-30 18:30", "Wed 2026-09-30 19:00", "Thu 2026-10-08 17:30"),
        ),
        # 30 min on 09-30, then 6.5 h on 10-08.
        (
            "normal",
            "urban",
            expect("1wd", "Thu 2026-10-08 15:15", "Thu 2026-10-08 17:00", "Fri 2026-10-09 17:00"),
        ),
        (
            "normal",
            "rural",
            expect("1wd", "Thu 2026-10-08 15:15", "Thu 2026-10-08 17:00", "Fri 2026-10-09 17:00"),
        ),
    ],
)
def test_a_whistled_unit_must_report_in_by_urgency_and_town_kind(
    urgency: Urgency, town_kind: TownKind, expected: tuple[str, str, str, str]
) -> None:
    clock = report_in_clock("sthjj", urgency, town_kind, local("Wed 2026-09-30 17:00"), **RULES)
    assert (clock.kind, clock.unit) == (ClockKind.REPORT_IN, "sthjj")
    assert marks(clock) == expected


def _complete_clock() -> Clock:
    return dispatch_clocks("normal", "urban", local(FRIDAY), "zjj", **RULES)[-1]


@pytest.mark.parametrize(
    ("extra", "granted", "capped", "expected"),
    [
        # Due Thu 09-24 16:00; Mid-Autumn Friday and the weekend pass first.
        (
            "3wd",
            "3wd",
            False,
            expect("5wd", "Mon 2026-09-28 16:00", "Wed 2026-09-30 16:00", "Thu 2026-10-08 16:00"),
        ),
        (
            "5wd",
            "5wd",
            False,
            expect("5wd", "Wed 2026-09-30 11:00", "Fri 2026-10-09 16:00", "Sat 2026-10-10 16:00"),
        ),
        (
            "10wd",
            "5wd",
            True,
            expect("5wd", "Wed 2026-09-30 11:00", "Fri 2026-10-09 16:00", "Sat 2026-10-10 16:00"),
        ),
        (
            "4wh",
            "4wh",
            False,
            expect("5wd", "Wed 2026-09-23 17:15", "Mon 2026-09-28 11:30", "Tue 2026-09-29 11:30"),
        ),
        # Calendar time from Thursday 16:00 lands on a day off; the warn share stays in working time.
        (
            "72h",
            "72h",
            False,
            expect("5wd", "Wed 2026-09-23 15:22:30", "Sun 2026-09-27 16:00", "Mon 2026-09-28 17:30"),
        ),
        (
            "400h",
            "5wd",
            True,
            expect("5wd", "Wed 2026-09-30 11:00", "Fri 2026-10-09 16:00", "Sat 2026-10-10 16:00"),
        ),
    ],
)
def test_an_extension_adds_to_the_due_time_up_to_the_extension_maximum(
    extra: str, granted: str, capped: bool, expected: tuple[str, str, str, str]
) -> None:
    original = _complete_clock()
    extension = extend(original, Duration.parse(extra), **RULES)
    assert (extension.requested, extension.granted, extension.capped) == (extra, granted, capped)
    assert marks(extension.clock) == expected
    assert extension.clock.extensions == (granted,)
    unchanged = ("kind", "unit", "started_at", "limit")
    assert {f: getattr(extension.clock, f) for f in unchanged} == {f: getattr(original, f) for f in unchanged}


def test_each_extension_is_capped_on_its_own_and_all_are_recorded() -> None:
    first = extend(_complete_clock(), Duration.parse("2wd"), **RULES).clock
    second = extend(first, Duration.parse("9wd"), **RULES)
    assert second.capped is True
    assert second.clock.extensions == ("2wd", "5wd")
    # 09-24 16:00 + 2wd = 09-29 16:00, + 5wd = 09-30, 10-08, 10-09, 10-10, 10-12.
    assert second.clock.due_at == local("Mon 2026-10-12 16:00")


@pytest.mark.parametrize(
    ("now", "due"),
    [
        ("Fri 2026-09-18 16:00", ()),
        ("Wed 2026-09-23 14:14", ()),
        ("Wed 2026-09-23 14:15", (Mark.AT_RISK,)),
        ("Thu 2026-09-24 15:59", (Mark.AT_RISK,)),
        ("Thu 2026-09-24 16:00", (Mark.AT_RISK, Mark.OVERDUE)),
        ("Sun 2026-09-27 12:00", (Mark.AT_RISK, Mark.OVERDUE)),
        ("Mon 2026-09-28 16:00", (Mark.AT_RISK, Mark.OVERDUE, Mark.SUPERVISE)),
    ],
)
def test_marks_fall_due_as_now_reaches_warn_due_and_escalation(now: str, due: tuple[Mark, ...]) -> None:
    assert due_marks(_complete_clock(), local(now)) == due


@pytest.mark.parametrize(
    ("now", "next_at"),
    [
        ("Fri 2026-09-18 16:00", "Wed 2026-09-23 14:15"),
        ("Wed 2026-09-23 14:15", "Thu 2026-09-24 16:00"),
        ("Sat 2026-09-26 09:00", "Mon 2026-09-28 16:00"),
        ("Mon 2026-09-28 16:00", None),
    ],
)
def test_the_next_mark_is_the_first_one_after_now(now: str, next_at: str | None) -> None:
    expected = local(next_at) if next_at else None
    assert next_mark_at(_complete_clock(), local(now)) == expected


def test_a_clock_refuses_marks_out_of_order_naive_instants_and_unknown_limits() -> None:
    fields = _complete_clock().model_dump()
    with pytest.raises(ValidationError, match="started_at <= warn_at <= due_at <= escalate_at"):
        Clock.model_validate({**fields, "warn_at": fields["escalate_at"] + timedelta(seconds=1)})
    with pytest.raises(ValidationError, match="timezone"):
        Clock.model_validate({**fields, "due_at": datetime(2026, 9, 24, 16, 0)})  # noqa: DTZ001
    with pytest.raises(ValidationError, match="not a duration"):
        Clock.model_validate({**fields, "limit": "5 days"})
    with pytest.raises(ValidationError, match="frozen"):
        _complete_clock().due_at = local(FRIDAY)  # type: ignore[misc]


# --- properties ------------------------------------------------------------

starts = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive; timezones= makes them aware
    max_value=datetime(2026, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@settings(max_examples=150, deadline=None)
@given(
    start=starts,
    urgency=st.sampled_from(["normal", "urgent", "emergency"]),
    town_kind=st.sampled_from(["urban", "rural"]),
)
def test_every_clock_warns_before_it_is_due_and_escalates_on_a_working_instant(
    start: datetime, urgency: Urgency, town_kind: TownKind
) -> None:
    clocks = dispatch_clocks(urgency, town_kind, start, "zjj", **RULES)
    for clock in clocks:
        assert clock.started_at <= clock.warn_at <= clock.due_at <= clock.escalate_at
        assert CALENDAR.is_working_time(clock.escalate_at)
        if Duration.parse(clock.limit).is_working_time:
            assert CALENDAR.is_working_time(clock.due_at)


@settings(max_examples=150, deadline=None)
@given(start=starts, extra_hours=st.floats(min_value=0, max_value=100, allow_nan=False))
def test_an_extension_never_adds_more_working_time_than_the_maximum(
    start: datetime, extra_hours: float
) -> None:
    clock = dispatch_clocks("normal", "urban", start, "zjj", **RULES)[-1]
    extended = extend(clock, Duration.parse(f"{extra_hours:.3f}wh"), **RULES).clock
    added = CALENDAR.working_seconds_between(clock.due_at, extended.due_at)
    assert added == pytest.approx(min(round(extra_hours, 3), 35.0) * 3600, abs=1e-5)
