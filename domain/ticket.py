"""The ticket aggregate: its state, and the fold of its events into that state."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from schemas.appeal import Appeal
from schemas.events import (
    CommandRejected,
    DuplicateReceived,
    TicketAnsweredInstantly,
    TicketDispatched,
    TicketEvent,
    TicketQueuedForManualDispatch,
    TicketReceived,
    TicketTransferred,
)
from schemas.triage import TriageDecision

# How many processed command ids a ticket remembers, to recognise a command seen again.
REMEMBERED_COMMANDS = 64


class TicketStatus(StrEnum):
    RECEIVED = "received"
    INSTANT = "instant"
    TRANSFERRED = "transferred"
    MANUAL = "manual"
    DISPATCHED = "dispatched"
    CLOSED = "closed"


OPEN_STATUSES = frozenset({TicketStatus.RECEIVED, TicketStatus.MANUAL, TicketStatus.DISPATCHED})


class TicketState(BaseModel):
    """What the system knows of one ticket now; rebuilt exactly by folding its events."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ticket_id: str
    version: int
    status: TicketStatus
    appeal: Appeal
    triage: TriageDecision
    received_at: datetime
    updated_at: datetime
    lead: str | None = None
    co: tuple[str, ...] = ()
    duplicates: int = 0
    rejected_commands: int = 0
    recent_command_ids: tuple[str, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def has_processed(self, command_id: str) -> bool:
        return command_id in self.recent_command_ids


class FoldError(ValueError):
    """An event that cannot follow the state it is folded into (a corrupt or reordered log)."""


def fold(state: TicketState | None, event: TicketEvent) -> TicketState:
    """Apply one event to the state; the first event of a ticket must be `TicketReceived`."""
    if state is None:
        if not isinstance(event, TicketReceived):
            raise FoldError(f"{event.ticket_id}: first event is {event.type}, not ticket_received")
        return TicketState(
            ticket_id=event.ticket_id,
            version=event.version,
            status=TicketStatus.RECEIVED,
            appeal=event.appeal,
            triage=event.triage,
            received_at=event.occurred_at,
            updated_at=event.occurred_at,
            recent_command_ids=(event.command_id,),
        )
    if event.version != state.version + 1:
        raise FoldError(f"{event.ticket_id}: event version {event.version} after {state.version}")
    commands = state.recent_command_ids
    if event.command_id not in commands:
        commands = (*commands, event.command_id)[-REMEMBERED_COMMANDS:]
    base = state.model_copy(
        update={"version": event.version, "updated_at": event.occurred_at, "recent_command_ids": commands}
    )
    return base.model_copy(update=_changes(base, event))


def _changes(state: TicketState, event: TicketEvent) -> dict[str, object]:
    match event:
        case TicketDispatched():
            return {"status": TicketStatus.DISPATCHED, "lead": event.lead, "co": event.co}
        case TicketAnsweredInstantly():
            return {"status": TicketStatus.INSTANT}
        case TicketTransferred():
            return {"status": TicketStatus.TRANSFERRED}
        case TicketQueuedForManualDispatch():
            return {"status": TicketStatus.MANUAL}
        case DuplicateReceived():
            return {"duplicates": state.duplicates + 1}
        case CommandRejected():
            return {"rejected_commands": state.rejected_commands + 1}
        case TicketReceived():
            raise FoldError(f"{event.ticket_id}: ticket_received on an existing ticket")
    raise FoldError(f"{event.ticket_id}: unknown event {event!r}")


def replay(events: list[TicketEvent]) -> TicketState | None:
    """Fold a ticket's whole log, oldest first."""
    state: TicketState | None = None
    for event in events:
        state = fold(state, event)
    return state
