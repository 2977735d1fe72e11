"""China's national holiday calendar, from the `chinese-calendar` package.

The package transcribes the State Council's yearly notice on holiday arrangements
(国务院办公厅关于某年部分节假日安排的通知, published each November for the next
year). Its release 1.11.0 covers 2004 to 2026; each later year needs a newer
release once the notice is out, and until then `WorkingCalendar.uncovered_years`
reports that year and the calendar falls back to weekends only.

This is the only module that imports `chinese_calendar`, so the domain sees a
plain `HolidayData` value and tests can build their own.
"""

from __future__ import annotations

from datetime import date

# The package ships no type information; the two mappings read below are typed here.
import chinese_calendar  # type: ignore[import-untyped]

from domain.time_limits import HolidayData


def national_holidays() -> HolidayData:
    """Statutory days off and make-up working days for every year the installed package covers.

    The package's own range check uses the years of its holiday table, so the same
    range is claimed here: a year inside it is fully described.
    """
    days_off: frozenset[date] = frozenset(chinese_calendar.holidays)
    working_days: frozenset[date] = frozenset(chinese_calendar.workdays)
    first = min(day.year for day in days_off)
    last = max(day.year for day in days_off)
    version: str = chinese_calendar.__version__
    return HolidayData(
        days_off=days_off,
        working_days=working_days,
        years=frozenset(range(first, last + 1)),
        source=f"chinese-calendar {version}",
    )
