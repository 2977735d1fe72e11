"""The control room's live queues per unit and per town.

Five queues: 待签收 awaiting_sign (the order is not signed yet), 办理中 in_progress (signed,
or a lead's return waiting for the control room), 即将超期 at_risk and 已超期 overdue (of those
open with a unit, past a limit's warn mark or the limit itself), 待回访 awaiting_callback
(completed, the citizen not called back yet). at_risk and overdue count tickets that are
also in one of the others: they say how the open ones stand against their limits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from domain.room.view import RoomTicket
from domain.ticket.fold import AssignmentStatus, TicketStatus
from schemas.limits import Mark

QUEUES = ("awaiting_sign", "in_progress", "at_risk", "overdue", "awaiting_callback")
_HELD = {
    AssignmentStatus.DISPATCHED: "awaiting_sign",
    AssignmentStatus.SIGNED: "in_progress",
    AssignmentStatus.RETURNED: "in_progress",
}
_TICKET_QUEUE = {
    TicketStatus.DISPATCHED: "awaiting_sign",
    TicketStatus.SIGNED: "in_progress",
    TicketStatus.RETURNED: "in_progress",
    TicketStatus.COMPLETED: "awaiting_callback",
}


@dataclass
class QueueCounts:
    key: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(QUEUES, 0))

    def add(self, queue: str) -> None:
        self.counts[queue] += 1

    @property
    def total(self) -> int:
        return sum(self.counts[q] for q in QUEUES if q not in ("at_risk", "overdue"))


def _flag(mark: Mark | None) -> str | None:
    if mark is None:
        return None
    return "at_risk" if mark == Mark.AT_RISK else "overdue"


def ticket_queues(ticket: RoomTicket) -> dict[str, list[str]]:
    """Unit code → the queues this ticket counts in for that unit."""
    state = ticket.state
    marks = ticket.marks()
    found: dict[str, list[str]] = {}
    if state.status in (TicketStatus.DISPATCHED, TicketStatus.SIGNED, TicketStatus.RETURNED):
        for held in state.assignments:
            queue = _HELD.get(held.status)
            if queue is None:
                continue
            found[held.unit] = [queue]
            flag = _flag(marks.get(held.unit))
            if flag:
                found[held.unit].append(flag)
    elif state.status == TicketStatus.COMPLETED:
        lead = next((a.unit for a in state.assignments if a.role == "lead"), None)
        if lead is not None:
            found[lead] = ["awaiting_callback"]
    return found


def town_queues_of(ticket: RoomTicket) -> list[str]:
    """The queues this ticket counts in for its town (one ticket counts once per town)."""
    queue = _TICKET_QUEUE.get(ticket.state.status)
    if queue is None:
        return []
    flag = _flag(ticket.mark()) if queue != "awaiting_callback" else None
    return [queue, flag] if flag else [queue]


def unit_queues(tickets: Iterable[RoomTicket]) -> dict[str, QueueCounts]:
    rows: dict[str, QueueCounts] = {}
    for ticket in tickets:
        for unit, queues in ticket_queues(ticket).items():
            row = rows.setdefault(unit, QueueCounts(unit))
            for queue in queues:
                row.add(queue)
    return rows


def town_queues(tickets: Iterable[RoomTicket]) -> dict[str, QueueCounts]:
    rows: dict[str, QueueCounts] = {}
    for ticket in tickets:
        town = ticket.state.town or ticket.state.triage.town or ""
        for queue in town_queues_of(ticket):
            rows.setdefault(town, QueueCounts(town)).add(queue)
    return rows
