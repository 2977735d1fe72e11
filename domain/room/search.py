"""The control room's ticket list: the tickets it holds, filtered by unit, town, category,
status (a ticket status or a queue) and text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from domain.privacy.masking import shown_text
from domain.room.queues import QUEUES, ticket_queues, town_queues_of
from domain.room.view import RoomTicket

LIST_LIMIT = 200


@dataclass(frozen=True)
class TicketFilter:
    unit: str = ""
    town: str = ""
    category: str = ""
    status: str = ""  # a TicketStatus value, or one of QUEUES
    text: str = ""
    limit: int = LIST_LIMIT


@dataclass(frozen=True)
class TicketRow:
    ticket_id: str
    version: int
    status: str
    urgency: str
    category: str
    town: str | None
    lead: str | None
    co: tuple[str, ...]
    received_at: datetime
    mark: str | None
    text: str


def _matches(ticket: RoomTicket, wanted: TicketFilter) -> bool:
    state = ticket.state
    if wanted.town and (state.town or state.triage.town) != wanted.town:
        return False
    if wanted.category and (state.category or state.triage.category) != wanted.category:
        return False
    held = ticket_queues(ticket)
    if wanted.unit and wanted.unit not in held and wanted.unit not in (state.lead, *state.co):
        return False
    if wanted.status in QUEUES:
        queues = held.get(wanted.unit, []) if wanted.unit else town_queues_of(ticket)
        if wanted.status not in queues:
            return False
    elif wanted.status and state.status.value != wanted.status:
        return False
    if wanted.text:
        needle = wanted.text.casefold()
        haystack = " ".join((state.ticket_id, state.appeal.text, state.appeal.address)).casefold()
        if needle not in haystack:
            return False
    return True


def find_tickets(tickets: Iterable[RoomTicket], wanted: TicketFilter) -> list[TicketRow]:
    """Newest first, at most `wanted.limit`."""
    found = sorted(
        (t for t in tickets if _matches(t, wanted)),
        key=lambda t: (t.state.received_at, t.state.ticket_id),
        reverse=True,
    )
    return [_row(t) for t in found[: wanted.limit]]


def _row(ticket: RoomTicket) -> TicketRow:
    state = ticket.state
    mark = ticket.mark() if state.is_open else None
    return TicketRow(
        ticket_id=state.ticket_id,
        version=state.version,
        status=state.status.value,
        urgency=state.triage.urgency,
        category=state.category or state.triage.category,
        town=state.town or state.triage.town,
        lead=state.lead,
        co=state.co,
        received_at=state.received_at,
        mark=mark.value if mark else None,
        text=shown_text(state)[:160],
    )
