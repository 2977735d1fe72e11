"""The control room's live view: every open ticket (and today's closed ones), folded from
`tickets.events` on top of a PostgreSQL snapshot, plus the alerts seen.

Idempotent on event versions, so the snapshot and the events read after it may overlap:
an event at or below a ticket's version is skipped; an event beyond the next version (the
snapshot lagged, or the ticket closed before today) waits until the ticket is reloaded.
No I/O: the shell seeds it, feeds it and reads it.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from domain.room.clocks import completed_on_time, unit_marks, worst_mark
from domain.ticket.fold import FoldError, TicketState, TicketStatus, fold
from schemas.alerts import Alert
from schemas.events import TicketCompleted, TicketEvent, TicketQueuedForManualDispatch, TicketReceived
from schemas.limits import Mark

ALERTS_KEPT = 200


@dataclass(frozen=True)
class RoomTicket:
    """One ticket as the room holds it: its state, why it waits for a person, and whether it
    was completed by its completion limit (None while not completed)."""

    state: TicketState
    manual_reason: str | None = None
    on_time: bool | None = None

    def marks(self) -> dict[str, Mark]:
        """The worst mark per unit ("" for the hotline's callback) among the running limits."""
        return unit_marks(self.state.clocks)

    def mark(self) -> Mark | None:
        return worst_mark(self.marks().values())


@dataclass
class RoomView:
    day_start: datetime
    timezone: str
    tickets: dict[str, RoomTicket] = field(default_factory=dict)
    today: Counter[str] = field(default_factory=Counter)  # event types seen today
    alerts: deque[Alert] = field(default_factory=lambda: deque(maxlen=ALERTS_KEPT))
    waiting: dict[str, list[TicketEvent]] = field(default_factory=dict)  # ticket → events past a gap
    changed: set[str] = field(default_factory=set)

    def seed(self, tickets: Iterable[RoomTicket], today: Counter[str]) -> None:
        for ticket in tickets:
            self.tickets[ticket.state.ticket_id] = ticket
        self.today = Counter(today)

    def reload(self, ticket: RoomTicket) -> None:
        """A ticket read again from PostgreSQL after a gap; the events waiting on it follow."""
        held = self.tickets.get(ticket.state.ticket_id)
        if held is None or ticket.state.version > held.state.version:
            self.tickets[ticket.state.ticket_id] = ticket
            self.changed.add(ticket.state.ticket_id)
        for event in sorted(self.waiting.pop(ticket.state.ticket_id, []), key=lambda e: e.version):
            self.apply(event)

    def apply(self, event: TicketEvent) -> bool:
        """Fold one event; False when it was already in or has to wait for a reload."""
        held = self.tickets.get(event.ticket_id)
        if held is None and not isinstance(event, TicketReceived):
            self.waiting.setdefault(event.ticket_id, []).append(event)
            return False
        if held is not None and event.version <= held.state.version:
            return False
        if held is not None and event.version > held.state.version + 1:
            self.waiting.setdefault(event.ticket_id, []).append(event)
            return False
        try:
            self.tickets[event.ticket_id] = _folded(held, event)
        except FoldError:
            # Cannot follow what the room holds (a log it misread): read the ticket again.
            self.waiting.setdefault(event.ticket_id, []).append(event)
            return False
        if event.occurred_at >= self.day_start:
            self.today[event.type] += 1
        self.changed.add(event.ticket_id)
        return True

    def note_alert(self, alert: Alert) -> None:
        if all(seen.alert_id != alert.alert_id for seen in self.alerts):
            self.alerts.appendleft(alert)
            self.changed.add(alert.ticket_id or "")  # "": an alert of no ticket, pushed all the same

    def new_day(self, day_start: datetime) -> None:
        """Midnight: today's counts start again, tickets closed before today leave the view."""
        self.day_start = day_start
        self.today.clear()
        for ticket_id, ticket in list(self.tickets.items()):
            if not ticket.state.is_open and ticket.state.updated_at < day_start:
                del self.tickets[ticket_id]

    def drain_changed(self) -> set[str]:
        changed, self.changed = self.changed, set()
        return changed

    def in_status(self, *statuses: TicketStatus) -> list[RoomTicket]:
        return [t for t in self.tickets.values() if t.state.status in statuses]


def _folded(held: RoomTicket | None, event: TicketEvent) -> RoomTicket:
    state = fold(held.state if held else None, event)
    reason = held.manual_reason if held else None
    on_time = held.on_time if held else None
    if isinstance(event, TicketQueuedForManualDispatch):
        reason = event.reason
    if isinstance(event, TicketCompleted) and held is not None:
        on_time = completed_on_time(held.state.clocks, event.occurred_at)
    return RoomTicket(state=state, manual_reason=reason, on_time=on_time)
