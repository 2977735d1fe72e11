"""The working calendar: exact instants across weekends, Chinese holidays and make-up days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.jurisdiction import CalendarSettings, Duration, DurationUnit, WorkingHours
from domain.time_limits import HolidayData, WorkingCalendar
from infra.holidays import national_holidays

SHANGHAI = ZoneInfo("Asia/Shanghai")
NATIONAL = national_holidays()
CALENDAR = WorkingCalendar(CalendarSettings(), "Asia/Shanghai", NATIONAL)
DAY = 7 * 3600  # one wd with the default 09:00-12:00, 13:30-17:30


def local(text: str) -> datetime:
    """`Fri 2026-09-18 16:00` in Shanghai; the weekday keeps the tables honest."""
    weekday, rest = text.split(" ", 1)
    moment = datetime.strptime(rest, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)
    assert moment.strftime("%a") == weekday, f"{text} is a {moment.strftime('%a')}"
    return moment


def ends(start: str, limit: str, calendar: WorkingCalendar = CALENDAR) -> datetime:
    return calendar.add(local(start), Duration.parse(limit))


@pytest.mark.parametrize(
    ("start", "limit", "end"),
    [
        ("Mon 2025-06-09 09:00", "2wh", "Mon 2025-06-09 11:00"),
        ("Mon 2025-06-09 10:30", "2wh", "Mon 2025-06-09 14:00"),
        ("Mon 2025-06-09 12:30", "1wh", "Mon 2025-06-09 14:30"),
        ("Fri 2025-06-13 17:00", "2wh", "Mon 2025-06-16 10:30"),
        ("Mon 2025-06-09 18:00", "2wh", "Tue 2025-06-10 11:00"),
        ("Sun 2025-06-08 23:59", "0.5wh", "Mon 2025-06-09 09:30"),
        ("Mon 2025-06-09 08:00", "7wh", "Mon 2025-06-09 17:30"),
    ],
)
def test_working_hours_skip_lunch_evenings_and_weekends(start: str, limit: str, end: str) -> None:
    assert ends(start, limit) == local(end)


@pytest.mark.parametrize(
    ("start", "limit", "end"),
    [
        ("Fri 2025-06-06 16:00", "5wd", "Fri 2025-06-13 16:00"),
        ("Sat 2025-06-07 10:00", "5wd", "Fri 2025-06-13 17:30"),
        ("Mon 2025-06-09 09:00", "5wd", "Fri 2025-06-13 17:30"),
        ("Mon 2025-06-09 12:45", "1wd", "Tue 2025-06-10 12:00"),
        ("Mon 2025-06-09 20:00", "1wd", "Tue 2025-06-10 17:30"),
        ("Wed 2025-06-11 11:00", "0.5wd", "Wed 2025-06-11 16:00"),
    ],
)
def test_n_working_days_end_on_the_nth_working_day_at_the_same_offset(
    start: str, limit: str, end: str
) -> None:
    assert ends(start, limit) == local(end)


@pytest.mark.parametrize(
    ("start", "limit", "end"),
    [
        # National Day 2026: 10-01..07 off, Sun 09-20 and Sat 10-10 worked.
        ("Wed 2026-09-30 16:00", "2wh", "Thu 2026-10-08 09:30"),
        ("Wed 2026-09-30 10:00", "5wd", "Tue 2026-10-13 10:00"),
        ("Fri 2026-09-18 16:00", "1wd", "Sun 2026-09-20 16:00"),
        ("Fri 2026-10-09 16:00", "1wd", "Sat 2026-10-10 16:00"),
        ("Thu 2026-10-01 10:00", "1wd", "Thu 2026-10-08 17:30"),
        # Mid-Autumn 2026: Fri 09-25 off.
        ("Thu 2026-09-24 16:00", "1wd", "Mon 2026-09-28 16:00"),
        # Spring Festival 2026: 02-15..23 off, Sat 02-14 and Sat 02-28 worked.
        ("Fri 2026-02-13 16:00", "1wd", "Sat 2026-02-14 16:00"),
        ("Fri 2026-02-13 16:00", "2wd", "Tue 2026-02-24 16:00"),
        ("Thu 2026-02-12 09:00", "5wd", "Wed 2026-02-25 17:30"),
        ("Fri 2026-02-27 17:00", "1wh", "Sat 2026-02-28 09:30"),
        # National Day 2025: 10-01..08 off, Sun 09-28 and Sat 10-11 worked.
        ("Fri 2025-09-26 17:00", "2wh", "Sun 2025-09-28 10:30"),
        ("Tue 2025-09-30 09:00", "2wd", "Thu 2025-10-09 17:30"),
        ("Fri 2025-10-10 16:00", "1wd", "Sat 2025-10-11 16:00"),
    ],
)
def test_statutory_holidays_are_skipped_and_make_up_days_are_worked(start: str, limit: str, end: str) -> None:
    assert ends(start, limit) == local(end)


@pytest.mark.parametrize(
    ("start", "limit", "end"),
    [
        ("Wed 2026-09-30 23:50", "30min", "Thu 2026-10-01 00:20"),
        ("Thu 2026-10-01 10:00", "24h", "Fri 2026-10-02 10:00"),
        ("Sat 2026-02-14 12:00", "120min", "Sat 2026-02-14 14:00"),
        ("Fri 2026-09-18 16:00", "1.5h", "Fri 2026-09-18 17:30"),
    ],
)
def test_calendar_time_runs_through_nights_weekends_and_holidays(start: str, limit: str, end: str) -> None:
    assert ends(start, limit) == local(end)


@pytest.mark.parametrize(
    ("start", "limit", "end"),
    [
        ("Mon 2025-06-09 11:00", "1wh", "Mon 2025-06-09 12:00"),
        ("Mon 2025-06-09 16:30", "1wh", "Mon 2025-06-09 17:30"),
        ("Wed 2026-09-30 09:00", "1wd", "Wed 2026-09-30 17:30"),
    ],
)
def test_a_limit_that_fits_a_period_exactly_ends_at_its_end_not_the_next_start(
    start: str, limit: str, end: str
) -> None:
    assert ends(start, limit) == local(end)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("Mon 2025-06-09 10:00", "Mon 2025-06-09 10:00"),
        ("Mon 2025-06-09 12:00", "Mon 2025-06-09 12:00"),
        ("Mon 2025-06-09 12:10", "Mon 2025-06-09 13:30"),
        ("Thu 2026-10-01 10:00", "Thu 2026-10-08 09:00"),
    ],
)
def test_a_zero_working_limit_ends_at_the_first_working_instant(start: str, end: str) -> None:
    assert ends(start, "0wd") == local(end)


def test_results_are_in_utc_whatever_zone_the_start_is_in() -> None:
    friday_four_pm_in_utc = datetime(2026, 6, 5, 8, 0, tzinfo=UTC)
    end = CALENDAR.add(friday_four_pm_in_utc, Duration.parse("1wd"))
    assert end == datetime(2026, 6, 8, 8, 0, tzinfo=UTC)
    assert end.tzinfo is UTC


def test_naive_datetimes_and_negative_limits_are_refused() -> None:
    naive = datetime(2026, 6, 5, 16, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="naive"):
        CALENDAR.add(naive, Duration.parse("1wd"))
    with pytest.raises(ValueError, match="naive"):
        CALENDAR.working_seconds_between(naive, local("Fri 2026-06-05 17:00"))
    with pytest.raises(ValueError, match="negative"):
        CALENDAR.add(local("Fri 2026-06-05 16:00"), Duration(amount=-1, unit=DurationUnit.WORKING_DAY))


@pytest.mark.parametrize(
    ("start", "end", "seconds"),
    [
        ("Fri 2025-06-13 16:00", "Mon 2025-06-16 10:00", 2.5 * 3600),
        ("Wed 2026-09-30 16:00", "Thu 2026-10-08 10:00", 2.5 * 3600),
        ("Mon 2025-06-09 12:00", "Mon 2025-06-09 13:30", 0),
        ("Sat 2025-06-14 08:00", "Sun 2025-06-15 20:00", 0),
        ("Mon 2025-06-09 09:00", "Mon 2025-06-16 09:00", 5 * DAY),
        ("Fri 2026-02-13 09:00", "Tue 2026-02-24 09:00", 2 * DAY),
        ("Mon 2025-06-16 10:00", "Fri 2025-06-13 16:00", -2.5 * 3600),
    ],
)
def test_working_seconds_count_only_working_periods(start: str, end: str, seconds: float) -> None:
    assert CALENDAR.working_seconds_between(local(start), local(end)) == seconds


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 9, 29), True),  # Tuesday
        (date(2026, 9, 26), False),  # Saturday
        (date(2026, 10, 1), False),  # National Day
        (date(2026, 10, 7), False),  # Wednesday in the National Day break
        (date(2026, 9, 20), True),  # make-up Sunday
        (date(2026, 10, 10), True),  # make-up Saturday
        (date(2026, 2, 23), False),  # Monday in the Spring Festival break
        (date(2026, 2, 28), True),  # make-up Saturday
        (date(2025, 1, 26), True),  # make-up Sunday
        (date(2025, 10, 8), False),  # Wednesday in the National Day break
    ],
)
def test_working_days_follow_the_national_calendar(day: date, working: bool) -> None:
    assert CALENDAR.is_working_day(day) is working


@pytest.mark.parametrize(
    ("moment", "working"),
    [
        ("Mon 2025-06-09 08:59", False),
        ("Mon 2025-06-09 09:00", True),
        ("Mon 2025-06-09 12:00", True),
        ("Mon 2025-06-09 12:01", False),
        ("Mon 2025-06-09 13:30", True),
        ("Mon 2025-06-09 17:30", True),
        ("Mon 2025-06-09 17:31", False),
        ("Thu 2026-10-01 10:00", False),
        ("Sat 2026-10-10 10:00", True),
    ],
)
def test_working_time_is_the_working_periods_of_working_days_ends_included(
    moment: str, working: bool
) -> None:
    assert CALENDAR.is_working_time(local(moment)) is working


def test_a_city_can_add_its_own_days_off_and_working_days() -> None:
    city = WorkingCalendar(
        CalendarSettings(days_off=("2026-06-05",), working_days=("2026-06-06", "2026-10-02")),
        "Asia/Shanghai",
        NATIONAL,
    )
    assert ends("Thu 2026-06-04 16:00", "1wd", city) == local("Sat 2026-06-06 16:00")
    assert ends("Thu 2026-06-04 16:00", "2wd", city) == local("Mon 2026-06-08 16:00")
    assert city.is_working_day(date(2026, 10, 2)) is True


def test_custom_working_hours_set_the_length_of_a_working_day() -> None:
    long_day = WorkingCalendar(
        CalendarSettings(working_hours=(WorkingHours(start="08:30", end="17:00"),)),
        "Asia/Shanghai",
        NATIONAL,
    )
    assert long_day.working_day_length == timedelta(hours=8, minutes=30)
    assert ends("Fri 2025-06-13 16:00", "1wd", long_day) == local("Mon 2025-06-16 16:00")
    assert ends("Fri 2025-06-13 13:00", "5wh", long_day) == local("Mon 2025-06-16 09:30")


@pytest.mark.parametrize(
    "hours",
    [
        (WorkingHours(start="13:30", end="17:30"), WorkingHours(start="09:00", end="12:00")),
        (WorkingHours(start="09:00", end="12:00"), WorkingHours(start="11:30", end="17:30")),
        (WorkingHours(start="09:00", end="09:00"),),
        (WorkingHours(start="09:00", end="25:00"),),
        (),
    ],
)
def test_unordered_overlapping_empty_or_impossible_working_hours_are_refused(
    hours: tuple[WorkingHours, ...],
) -> None:
    with pytest.raises(ValueError, match="working period|time of day"):
        WorkingCalendar(CalendarSettings(working_hours=hours), "Asia/Shanghai", NATIONAL)


def test_a_year_without_holiday_data_falls_back_to_weekends_and_is_reported() -> None:
    # New Year's Day 2027 will be a holiday, but no data covers 2027 yet.
    assert ends("Thu 2026-12-31 16:00", "1wd") == local("Fri 2027-01-01 16:00")
    assert CALENDAR.uncovered_years(local("Thu 2026-12-31 16:00"), local("Fri 2027-01-01 16:00")) == (2027,)
    assert CALENDAR.uncovered_years(local("Fri 2027-01-01 16:00"), local("Thu 2026-12-31 16:00")) == (2027,)
    assert CALENDAR.uncovered_years(local("Thu 2025-01-02 09:00"), local("Thu 2026-12-31 16:00")) == ()


def test_uncovered_years_are_read_in_local_time() -> None:
    # 2026-12-31 16:30 UTC is already 2027-01-01 00:30 in Shanghai.
    last_utc_evening = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    assert CALENDAR.uncovered_years(last_utc_evening, last_utc_evening) == (2027,)


def test_the_national_data_matches_the_state_council_notice_for_2026() -> None:
    days_off_2026 = sorted(d for d in NATIONAL.days_off if d.year == 2026)
    working_2026 = sorted(d for d in NATIONAL.working_days if d.year == 2026)

    def span(first: date, last: date) -> list[date]:
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]

    assert days_off_2026 == [
        *span(date(2026, 1, 1), date(2026, 1, 3)),
        *span(date(2026, 2, 15), date(2026, 2, 23)),
        *span(date(2026, 4, 4), date(2026, 4, 6)),
        *span(date(2026, 5, 1), date(2026, 5, 5)),
        *span(date(2026, 6, 19), date(2026, 6, 21)),
        *span(date(2026, 9, 25), date(2026, 9, 27)),
        *span(date(2026, 10, 1), date(2026, 10, 7)),
    ]
    assert working_2026 == [
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ]
    assert {2025, 2026} <= NATIONAL.years
    assert NATIONAL.source.startswith("chinese-calendar ")


def test_holiday_data_refuses_dates_outside_its_years_or_both_off_and_working() -> None:
    with pytest.raises(ValueError, match="outside the covered years"):
        HolidayData(days_off=frozenset({date(2027, 1, 1)}), years=frozenset({2026}))
    with pytest.raises(ValueError, match="both off and working"):
        HolidayData(
            days_off=frozenset({date(2026, 1, 1)}),
            working_days=frozenset({date(2026, 1, 1)}),
            years=frozenset({2026}),
        )


# --- properties ------------------------------------------------------------

starts = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive; timezones= makes them aware
    max_value=datetime(2027, 12, 31),  # noqa: DTZ001
    timezones=st.sampled_from([SHANGHAI, UTC]),
)
working_units = st.sampled_from([DurationUnit.WORKING_DAY, DurationUnit.WORKING_HOUR])
amounts = st.floats(min_value=0, max_value=30, allow_nan=False, allow_infinity=False)
PERIOD_STARTS = {"09:00", "13:30"}


def _local_date(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


@settings(max_examples=300, deadline=None)
@given(start=starts, amount=amounts, unit=working_units)
def test_adding_working_time_then_measuring_it_gives_it_back(
    start: datetime, amount: float, unit: DurationUnit
) -> None:
    end = CALENDAR.add(start, Duration(amount=amount, unit=unit))
    per_unit = DAY if unit is DurationUnit.WORKING_DAY else 3600
    assert CALENDAR.working_seconds_between(start, end) == pytest.approx(amount * per_unit, abs=1e-5)


@settings(max_examples=300, deadline=None)
# Below a microsecond of working time a limit rounds to zero, which ends at a period start.
@given(start=starts, amount=amounts.filter(lambda a: a >= 1e-6), unit=working_units)
def test_a_working_time_limit_never_ends_on_a_day_off_outside_hours_or_at_a_period_start(
    start: datetime, amount: float, unit: DurationUnit
) -> None:
    end = CALENDAR.add(start, Duration(amount=amount, unit=unit))
    assert CALENDAR.is_working_day(_local_date(end))
    assert CALENDAR.is_working_time(end)
    assert end.astimezone(SHANGHAI).strftime("%H:%M:%S.%f") not in {f"{s}:00.000000" for s in PERIOD_STARTS}


@settings(max_examples=300, deadline=None)
@given(start=starts, amounts=st.lists(amounts, min_size=2, max_size=2), unit=working_units)
def test_adding_is_monotonic_in_the_duration(
    start: datetime, amounts: list[float], unit: DurationUnit
) -> None:
    shorter, longer = sorted(amounts)
    ends = [CALENDAR.add(start, Duration(amount=a, unit=unit)) for a in (shorter, longer)]
    assert ends[0] <= ends[1]
    if longer - shorter >= 1e-3:
        assert ends[0] < ends[1]


@settings(max_examples=200, deadline=None)
@given(moments=st.lists(starts, min_size=3, max_size=3))
def test_working_seconds_add_up_over_consecutive_spans(moments: list[datetime]) -> None:
    a, b, c = sorted(moments)
    whole = CALENDAR.working_seconds_between(a, c)
    parts = CALENDAR.working_seconds_between(a, b) + CALENDAR.working_seconds_between(b, c)
    assert whole == pytest.approx(parts, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime(2026, 3, 1),  # noqa: DTZ001
        max_value=datetime(2026, 11, 30),  # noqa: DTZ001
        timezones=st.just(ZoneInfo("Europe/Berlin")),
    ),
    amount=amounts,
)
def test_the_round_trip_holds_across_daylight_saving_changes(start: datetime, amount: float) -> None:
    berlin = WorkingCalendar(CalendarSettings(), "Europe/Berlin", HolidayData())
    end = berlin.add(start, Duration(amount=amount, unit=DurationUnit.WORKING_DAY))
    assert berlin.working_seconds_between(start, end) == pytest.approx(amount * DAY, abs=1e-5)
    assert berlin.is_working_time(end)
