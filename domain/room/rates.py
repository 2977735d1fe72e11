"""The wall screen's live figures for today, and the worst units now, from the room's view.

Live working figures, not the assessment rates of the periodic reports (`domain.reporting.rates`):
- 办结率: tickets completed today / (completed today + being worked on now);
- 按期办结率: of those completed today, the share completed by their completion limit;
- 满意率: of the final callbacks on tickets touched today with an opinion (not unreachable,
  not no comment), the share satisfied or basically satisfied.
A rate with nothing to divide is None, shown as "—", never as 0 % or 100 %.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from domain.room.queues import QueueCounts
from domain.room.view import RoomTicket
from domain.ticket.fold import WORKING_STATUSES

SATISFIED = frozenset({"satisfied", "basically_satisfied"})
NO_OPINION = frozenset({"unreachable", "no_comment"})
WORST_SHOWN = 5


@dataclass(frozen=True)
class TodayRates:
    received: int
    dispatched: int
    answered: int  # 即办: answered on the line
    completed: int
    closed: int
    at_risk_flagged: int
    overdue_flagged: int
    completion_rate: float | None
    on_time_rate: float | None
    satisfaction_rate: float | None


@dataclass(frozen=True)
class UnitStanding:
    unit: str
    overdue: int
    at_risk: int
    open: int
    completed_today: int
    on_time_rate: float | None


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _lead(ticket: RoomTicket) -> str | None:
    return next((a.unit for a in ticket.state.assignments if a.role == "lead"), None)


def today_rates(tickets: Iterable[RoomTicket], today: Mapping[str, int], day_start: datetime) -> TodayRates:
    completed = on_time = working = opinions = satisfied = 0
    for ticket in tickets:
        state = ticket.state
        working += state.status in WORKING_STATUSES
        if state.completed_at is not None and state.completed_at >= day_start:
            completed += 1
            on_time += ticket.on_time is True
        if state.updated_at >= day_start:
            for callback in state.callbacks:
                if callback.final and callback.outcome not in NO_OPINION:
                    opinions += 1
                    satisfied += callback.outcome in SATISFIED
    return TodayRates(
        received=today.get("ticket_received", 0),
        dispatched=today.get("ticket_dispatched", 0),
        answered=today.get("ticket_answered_instantly", 0),
        completed=today.get("ticket_completed", 0),
        closed=today.get("ticket_closed", 0),
        at_risk_flagged=today.get("limit_at_risk", 0),
        overdue_flagged=today.get("limit_overdue", 0),
        completion_rate=_rate(completed, completed + working),
        on_time_rate=_rate(on_time, completed),
        satisfaction_rate=_rate(satisfied, opinions),
    )


def worst_units(
    tickets: Iterable[RoomTicket], queues: Mapping[str, QueueCounts], day_start: datetime
) -> list[UnitStanding]:
    """Most overdue first, then most at risk, then the lowest on-time rate today."""
    done: Counter[str] = Counter()
    in_time: Counter[str] = Counter()
    for ticket in tickets:
        lead, completed_at = _lead(ticket), ticket.state.completed_at
        if lead and completed_at is not None and completed_at >= day_start:
            done[lead] += 1
            in_time[lead] += ticket.on_time is True
    standings = [
        UnitStanding(
            unit=unit,
            overdue=queues[unit].counts["overdue"] if unit in queues else 0,
            at_risk=queues[unit].counts["at_risk"] if unit in queues else 0,
            open=queues[unit].total if unit in queues else 0,
            completed_today=done[unit],
            on_time_rate=_rate(in_time[unit], done[unit]),
        )
        for unit in set(queues) | set(done)
    ]
    standings.sort(
        key=lambda s: (-s.overdue, -s.at_risk, 1.0 if s.on_time_rate is None else s.on_time_rate, s.unit)
    )
    return [s for s in standings if s.overdue or s.at_risk or s.on_time_rate is not None][:WORST_SHOWN]
