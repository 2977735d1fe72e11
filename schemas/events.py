"""Events on `tickets.events` (past tense; keyed by ticket_id; written only by the ticket agent).

`event_id` is `<ticket_id>:<version>`: deterministic, so every consumer can be
idempotent on it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from schemas.appeal import Appeal
from schemas.base import AwareDatetime, WireModel
from schemas.triage import TriageDecision, Urgency


class _Event(WireModel):
    schema_version: Literal[1] = 1
    event_id: str
    ticket_id: str
    version: int = Field(ge=1)
    occurred_at: AwareDatetime
    command_id: str


class TicketReceived(_Event):
    type: Literal["ticket_received"] = "ticket_received"
    appeal: Appeal
    triage: TriageDecision


class TicketDispatched(_Event):
    type: Literal["ticket_dispatched"] = "ticket_dispatched"
    lead: str
    co: tuple[str, ...] = ()
    category: str
    town: str | None
    urgency: Urgency


class TicketAnsweredInstantly(_Event):
    type: Literal["ticket_answered_instantly"] = "ticket_answered_instantly"


class TicketTransferred(_Event):
    type: Literal["ticket_transferred"] = "ticket_transferred"
    transfer_to: str


class TicketQueuedForManualDispatch(_Event):
    type: Literal["ticket_queued_for_manual_dispatch"] = "ticket_queued_for_manual_dispatch"
    reason: str
    suggestion: tuple[str, ...] = ()


class DuplicateReceived(_Event):
    type: Literal["duplicate_received"] = "duplicate_received"
    channel: str
    source_id: str
    received_at: AwareDatetime


class CommandRejected(_Event):
    """A command that did not fit the ticket's state: kept, changes nothing but the version."""

    type: Literal["command_rejected"] = "command_rejected"
    command_type: str
    reason: str


TicketEvent = Annotated[
    TicketReceived
    | TicketDispatched
    | TicketAnsweredInstantly
    | TicketTransferred
    | TicketQueuedForManualDispatch
    | DuplicateReceived
    | CommandRejected,
    Field(discriminator="type"),
]
TICKET_EVENT: TypeAdapter[TicketEvent] = TypeAdapter(TicketEvent)
