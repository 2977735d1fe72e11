"""Report periods: a day, a week, ten days (十天一通报) or a month, in the jurisdiction's local time.

A period is a half-open span of local dates `[first, last]`; its instants are
`[start_at, end_at)`, from local midnight of `first` to local midnight after `last`.
Ten-day periods are the first ten days of a month (上旬), days 11-20 (中旬) and the
rest of the month (下旬). Weeks run Monday to Sunday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class PeriodKind(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    TENDAY = "tenday"
    MONTHLY = "monthly"


KIND_NAMES = {
    PeriodKind.DAILY: "日报",
    PeriodKind.WEEKLY: "周报",
    PeriodKind.TENDAY: "旬报",
    PeriodKind.MONTHLY: "月报",
}
_TENDAY_NAMES = ("上旬", "中旬", "下旬")


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    kind: PeriodKind
    first: date
    last: date
    timezone: str

    @property
    def start_at(self) -> datetime:
        return _local_midnight(self.first, self.timezone)

    @property
    def end_at(self) -> datetime:
        return _local_midnight(self.last + timedelta(days=1), self.timezone)

    @property
    def days(self) -> tuple[date, ...]:
        return tuple(self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1))

    @property
    def label(self) -> str:
        """How a person names it: 2026年3月2日, 2026年第10周, 2026年3月上旬, 2026年3月."""
        first = self.first
        match self.kind:
            case PeriodKind.DAILY:
                return f"{first.year}年{first.month}月{first.day}日"
            case PeriodKind.WEEKLY:
                year, week, _ = first.isocalendar()
                last = self.last
                return f"{year}年第{week}周（{first.month}月{first.day}日—{last.month}月{last.day}日）"
            case PeriodKind.TENDAY:
                return f"{first.year}年{first.month}月{_TENDAY_NAMES[min(first.day // 10, 2)]}"
        return f"{first.year}年{first.month}月"

    def contains(self, at: datetime) -> bool:
        return self.start_at <= at < self.end_at

    def previous(self) -> ReportPeriod:
        """The period of the same kind just before this one, for growth and trends."""
        return period_for(self.kind, self.first - timedelta(days=1), self.timezone)


def period_for(kind: PeriodKind, day: date, timezone: str) -> ReportPeriod:
    """The period of `kind` that contains the local date `day`."""
    match kind:
        case PeriodKind.DAILY:
            first, last = day, day
        case PeriodKind.WEEKLY:
            first = day - timedelta(days=day.weekday())
            last = first + timedelta(days=6)
        case PeriodKind.TENDAY:
            start_day = min((day.day - 1) // 10, 2) * 10 + 1
            first = day.replace(day=start_day)
            last = first + timedelta(days=9) if start_day < 21 else _month_end(day)
        case PeriodKind.MONTHLY:
            first, last = day.replace(day=1), _month_end(day)
    return ReportPeriod(kind=kind, first=first, last=last, timezone=timezone)


def local_date(at: datetime, timezone: str) -> date:
    return at.astimezone(ZoneInfo(timezone)).date()


def _month_end(day: date) -> date:
    next_month = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return next_month - timedelta(days=1)


def _local_midnight(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone)).astimezone(UTC)
