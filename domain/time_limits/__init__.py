"""Time limits (时限): the working calendar, the clocks a ticket runs and their marks (warn, due,
escalate), the due-index of the marks a worker fires, whistles (街乡吹哨、部门报到) and their alerts.

Vocabulary: a *time limit* is the jurisdiction's rule (sign within 1 working hour); a *clock*
is one limit running on one ticket (`schemas.limits.Clock`); a *mark* is an instant at which a
clock warns, falls due or escalates; the *due-index* holds a worker's unfired marks; the
*timer agents* (`agents.timers`) fire them. The time source is `agents.ports.TimeSource`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain import public_names

if TYPE_CHECKING:
    from domain.time_limits.alerts import timing_alerts
    from domain.time_limits.clock_changes import LimitPolicy
    from domain.time_limits.decisions import TIMING_COMMANDS, handle_timing_command, with_timing
    from domain.time_limits.due_index import DueIndex, DueMark
    from domain.time_limits.whistles import Whistle, whistle_changes
    from domain.time_limits.workdays import HolidayData, WorkingCalendar

__all__ = [
    "DueIndex",
    "DueMark",
    "HolidayData",
    "LimitPolicy",
    "TIMING_COMMANDS",
    "Whistle",
    "WorkingCalendar",
    "handle_timing_command",
    "timing_alerts",
    "whistle_changes",
    "with_timing",
]

__getattr__ = public_names(
    __name__,
    {
        "DueIndex": "due_index",
        "DueMark": "due_index",
        "HolidayData": "workdays",
        "LimitPolicy": "clock_changes",
        "TIMING_COMMANDS": "decisions",
        "Whistle": "whistles",
        "WorkingCalendar": "workdays",
        "handle_timing_command": "decisions",
        "timing_alerts": "alerts",
        "whistle_changes": "whistles",
        "with_timing": "decisions",
    },
)
