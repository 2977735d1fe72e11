"""Reporting: report periods, what the reports know of each ticket, the hotline's rates (考核指标),
the periodic report, and the meeting list (逢"6"调度; on the wire `leadership_list`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain import public_names

if TYPE_CHECKING:
    from domain.reporting.meeting_list import (
        ListedTicket,
        MeetingList,
        UnitOverdue,
        due_for_compilation,
        latest_dispatch_day,
        meeting_list_alert,
        previous_dispatch_day,
        render,
    )
    from domain.reporting.periods import PeriodKind, local_date, period_for
    from domain.reporting.rates import Rates, RateWeights
    from domain.reporting.report import TREND_DAYS, Count, KbUse, Report, Row, build_report

__all__ = [
    "Count",
    "KbUse",
    "MeetingList",
    "ListedTicket",
    "PeriodKind",
    "RateWeights",
    "Rates",
    "Report",
    "Row",
    "TREND_DAYS",
    "UnitOverdue",
    "build_report",
    "due_for_compilation",
    "latest_dispatch_day",
    "meeting_list_alert",
    "local_date",
    "period_for",
    "previous_dispatch_day",
    "render",
]

__getattr__ = public_names(
    __name__,
    {
        "Count": "report",
        "KbUse": "report",
        "MeetingList": "meeting_list",
        "ListedTicket": "meeting_list",
        "PeriodKind": "periods",
        "RateWeights": "rates",
        "Rates": "rates",
        "Report": "report",
        "Row": "report",
        "TREND_DAYS": "report",
        "UnitOverdue": "meeting_list",
        "build_report": "report",
        "due_for_compilation": "meeting_list",
        "latest_dispatch_day": "meeting_list",
        "meeting_list_alert": "meeting_list",
        "local_date": "periods",
        "period_for": "periods",
        "previous_dispatch_day": "meeting_list",
        "render": "meeting_list",
    },
)
