"""A ticket's running limits as the control room shows them: the marks the timers recorded.

The clocks travel on the events (`domain.time_limits.clock_changes`), and each mark a timer fired is
recorded on its clock (`fired`): the room counts a ticket at risk or overdue once the
ticket's log says so, exactly as every other reader of `tickets.events` would.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from schemas.limits import Clock, ClockKind, Mark

# Worst first: what one ticket (or one unit's part of it) is flagged with.
MARK_RANK = {Mark.SUPERVISE: 3, Mark.OVERDUE: 2, Mark.AT_RISK: 1}


def worst_mark(marks: Iterable[Mark]) -> Mark | None:
    return max(marks, key=MARK_RANK.__getitem__, default=None)


def unit_marks(clocks: Iterable[Clock]) -> dict[str, Mark]:
    """The worst mark fired per unit ("" for the hotline's own callback limit)."""
    found: dict[str, list[Mark]] = {}
    for clock in clocks:
        found.setdefault(clock.unit or "", []).extend(clock.fired)
    return {unit: worst for unit, marks in found.items() if (worst := worst_mark(marks)) is not None}


def completed_on_time(clocks_before: Iterable[Clock], completed_at: datetime) -> bool | None:
    """Whether a completion came by the completion limit running just before it (as extended);
    None when no completion limit was running (nothing to judge by)."""
    due = [c.due_at for c in clocks_before if c.kind is ClockKind.COMPLETE]
    return completed_at <= due[0] if due else None
