"""The working calendar: which instants count towards working-time limits (`wd`, `wh`).

What the arithmetic means, precisely:

- A *working day* is a local date that is not a day off. In order of precedence:
  the city's own `working_days` / `days_off` (CalendarSettings), then the national
  `HolidayData` for the years it covers (make-up working days on, statutory days
  off off), then the week: Monday to Friday on, Saturday and Sunday off. A year
  the holiday data does not cover falls back to the week alone, and
  `uncovered_years` names it so the caller can warn.
- *Working time* is the union of the configured working periods (e.g. 09:00-12:00
  and 13:30-17:30, local time) on working days. A period is closed: both 12:00
  and 13:30 are working instants, the lunch break between them is not.
- `N wh` is N x 3600 seconds of working time. `N wd` is N working-day lengths of
  working time (7 h for the default periods), so it ends on the N-th working day
  after the start at the same offset into the working day: 5wd from Friday 16:00
  ends the next Friday at 16:00. A start outside working time counts from the
  next period start: 5wd from Saturday 10:00 runs Monday 09:00 to Friday 17:30.
- A working-time limit ends at the *earliest* instant at which that much working
  time has elapsed. It therefore always ends at a working instant, and when it
  lands exactly on a boundary it ends at the period's end (12:00, 17:30 on the
  last day), never at the next period's start.
- `h` and `min` are calendar time, 24x7, measured in elapsed seconds.

All inputs must be timezone-aware (any zone); results are in UTC. Days and hours
are read in the jurisdiction's zone. Building the calendar reads nothing but the
zone database (zoneinfo); the holiday data is handed in by `infra.holidays`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, model_validator

from domain.jurisdiction import CalendarSettings, Duration, DurationUnit, Jurisdiction

_MINUTES_PER_DAY = 24 * 60
_DAYS_KEPT = 4096  # about eleven years of days
_SATURDAY = 5

Period = tuple[datetime, datetime]


class HolidayData(BaseModel):
    """The national calendar for some years: statutory days off and make-up working days.

    A year in `years` is fully described by the two sets plus the week; dates of
    other years are refused, so a partial year cannot pass for a covered one.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    days_off: frozenset[date] = frozenset()
    working_days: frozenset[date] = frozenset()
    years: frozenset[int] = frozenset()
    source: str = ""

    @model_validator(mode="after")
    def _dates_fall_in_covered_years(self) -> HolidayData:
        both = self.days_off & self.working_days
        if both:
            raise ValueError(f"dates both off and working: {sorted(both)}")
        stray = sorted(d for d in self.days_off | self.working_days if d.year not in self.years)
        if stray:
            raise ValueError(f"dates outside the covered years {sorted(self.years)}: {stray[:5]}")
        return self


def _minutes(text: str) -> int:
    hours, minutes = (int(part) for part in text.split(":"))
    if minutes >= 60 or hours * 60 + minutes > _MINUTES_PER_DAY:
        raise ValueError(f"not a time of day: {text}")
    return hours * 60 + minutes


def _parse_periods(settings: CalendarSettings) -> tuple[tuple[int, int], ...]:
    periods = tuple((_minutes(p.start), _minutes(p.end)) for p in settings.working_hours)
    if not periods:
        raise ValueError("the working calendar needs at least one working period")
    previous_end = 0
    for start, end in periods:
        # Overlapping or unordered periods would count the same minute twice.
        if not previous_end <= start < end:
            raise ValueError(f"working periods must be ordered and not overlap: {settings.working_hours}")
        previous_end = end
    return periods


def _as_utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at.isoformat()}: the working calendar needs an aware one")
    return at.astimezone(UTC)


class WorkingCalendar:
    """A jurisdiction's working calendar and the time-limit arithmetic on it (see the module doc)."""

    def __init__(self, settings: CalendarSettings, timezone: str, holidays: HolidayData) -> None:
        self._zone = ZoneInfo(timezone)
        self._timezone = timezone
        self._periods = _parse_periods(settings)
        self._day_length = timedelta(minutes=sum(end - start for start, end in self._periods))
        self._local_off = frozenset(map(date.fromisoformat, settings.days_off))
        self._local_working = frozenset(map(date.fromisoformat, settings.working_days))
        if self._local_off & self._local_working:
            raise ValueError(f"dates both off and working: {sorted(self._local_off & self._local_working)}")
        self._holidays = holidays
        # Each local day's periods in UTC, worked out once: every limit of every ticket walks them.
        self._days: dict[date, tuple[Period, ...]] = {}

    @classmethod
    def for_jurisdiction(cls, jurisdiction: Jurisdiction, holidays: HolidayData) -> WorkingCalendar:
        """The calendar of a jurisdiction: its settings and zone over the national holidays."""
        return cls(jurisdiction.calendar, jurisdiction.timezone, holidays)

    @property
    def timezone(self) -> str:
        """The IANA zone whose local days and hours the calendar reads."""
        return self._timezone

    @property
    def holiday_source(self) -> str:
        """Where the national holiday data came from (e.g. `chinese-calendar 1.11.0`)."""
        return self._holidays.source or "no holiday data"

    @property
    def working_day_length(self) -> timedelta:
        """How much working time one `wd` is: the sum of the working periods of a day."""
        return self._day_length

    def is_working_day(self, day: date) -> bool:
        """Whether a local date is a working day (city overrides, then national data, then the week)."""
        if day in self._local_working:
            return True
        if day in self._local_off:
            return False
        if day.year in self._holidays.years:
            if day in self._holidays.working_days:
                return True
            if day in self._holidays.days_off:
                return False
        return day.weekday() < _SATURDAY

    def is_working_time(self, at: datetime) -> bool:
        """Whether an instant is working time: inside a working period of a working day, ends included."""
        moment = _as_utc(at)
        day = moment.astimezone(self._zone).date()
        return self.is_working_day(day) and any(s <= moment <= e for s, e in self._periods_on(day))

    def uncovered_years(self, start_at: datetime, end_at: datetime) -> tuple[int, ...]:
        """Local years between two instants (inclusive) that the holiday data does not cover.

        Limits across these years were computed with weekends only; the caller warns.
        """
        first, last = sorted(_as_utc(at).astimezone(self._zone).year for at in (start_at, end_at))
        return tuple(year for year in range(first, last + 1) if year not in self._holidays.years)

    def add(self, start_at: datetime, duration: Duration) -> datetime:
        """The instant a limit of `duration` started at `start_at` ends, in UTC (see the module doc)."""
        start = _as_utc(start_at)
        if duration.amount < 0:
            raise ValueError(f"a time limit cannot be negative: {duration}")
        if duration.unit is DurationUnit.MINUTE:
            return start + timedelta(minutes=duration.amount)
        if duration.unit is DurationUnit.HOUR:
            return start + timedelta(hours=duration.amount)
        if duration.unit is DurationUnit.WORKING_DAY:
            return self._add_working(start, self._day_length * duration.amount)
        return self._add_working(start, timedelta(hours=duration.amount))

    def working_seconds_between(self, start_at: datetime, end_at: datetime) -> float:
        """Seconds of working time from `start_at` to `end_at`; negative when `end_at` is earlier."""
        start, end = _as_utc(start_at), _as_utc(end_at)
        if end < start:
            return -self.working_seconds_between(end, start)
        total = timedelta()
        for period_start, period_end in self._periods_from(start):
            if period_start >= end:
                break
            overlap = min(period_end, end) - max(period_start, start)
            if overlap > timedelta():
                total += overlap
        return total.total_seconds()

    def _add_working(self, start: datetime, working: timedelta) -> datetime:
        # Walk the periods spending `working`; `<=` makes an exact fit end at the
        # period's end, and a zero limit end at the first working instant.
        remaining = working
        for period_start, period_end in self._periods_from(start):
            if period_end < start:
                continue
            begin = max(period_start, start)
            if remaining <= period_end - begin:
                return begin + remaining
            remaining -= period_end - begin
        raise AssertionError("unreachable: _periods_from never ends")

    def _periods_from(self, at: datetime) -> Iterator[Period]:
        # Endless, but every week has working days (the day-off sets are finite),
        # so each caller's walk reaches its end.
        day = at.astimezone(self._zone).date()
        while True:
            if self.is_working_day(day):
                yield from self._periods_on(day)
            day += timedelta(days=1)

    def _periods_on(self, day: date) -> tuple[Period, ...]:
        known = self._days.get(day)
        if known is not None:
            return known
        periods = ((self._local(day, start), self._local(day, end)) for start, end in self._periods)
        # A daylight-saving jump can squeeze a period to nothing; such a period is skipped.
        found = tuple((start, end) for start, end in periods if end > start)
        if len(self._days) >= _DAYS_KEPT:
            self._days.clear()
        self._days[day] = found
        return found

    def _local(self, day: date, minutes: int) -> datetime:
        # 24:00 is the next day's midnight; local wall time is converted through UTC
        # because aware arithmetic in one zone ignores offset changes.
        day = day + timedelta(days=minutes // _MINUTES_PER_DAY)
        minutes %= _MINUTES_PER_DAY
        return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self._zone).astimezone(UTC)
