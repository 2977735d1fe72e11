"""Command handling: validate a command against the ticket's state and say what happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from domain.ticket import TicketState, fold
from schemas.commands import ReceiveAppeal, RecordDuplicate, TicketCommand
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


@dataclass(frozen=True)
class Decision:
    """The events a command produced and the state after them. `events` is empty for a replay."""

    events: tuple[TicketEvent, ...]
    state: TicketState | None

    @property
    def rejected(self) -> tuple[CommandRejected, ...]:
        return tuple(e for e in self.events if isinstance(e, CommandRejected))


class EventHeader(TypedDict):
    event_id: str
    ticket_id: str
    version: int
    occurred_at: datetime
    command_id: str


class _Emitter:
    """Numbers events after the state's version, giving each its deterministic id."""

    def __init__(self, ticket_id: str, version: int, command_id: str, now: datetime) -> None:
        self.ticket_id, self.version, self.command_id, self.now = ticket_id, version, command_id, now

    def header(self) -> EventHeader:
        self.version += 1
        return EventHeader(
            event_id=f"{self.ticket_id}:{self.version}",
            ticket_id=self.ticket_id,
            version=self.version,
            occurred_at=self.now,
            command_id=self.command_id,
        )


def decide(state: TicketState | None, command: TicketCommand, now: datetime) -> Decision:
    """Handle one command: new events and the folded state; a processed command yields nothing."""
    if state is not None and state.has_processed(command.command_id):
        return Decision(events=(), state=state)
    emit = _Emitter(command.ticket_id, state.version if state else 0, command.command_id, now)
    events = _events_for(state, command, emit)
    for event in events:
        state = fold(state, event)
    return Decision(events=events, state=state)


def _events_for(state: TicketState | None, command: TicketCommand, emit: _Emitter) -> tuple[TicketEvent, ...]:
    match command:
        case ReceiveAppeal():
            if state is not None:
                return (_rejection(emit, command.type, "ticket already exists"),)
            return _receive(command, emit)
        case RecordDuplicate():
            if state is None:
                return ()  # a duplicate can only follow its ticket on the same partition; see ADR 0001
            appeal = command.appeal
            return (
                DuplicateReceived(
                    **emit.header(),
                    channel=appeal.channel,
                    source_id=appeal.source_id,
                    received_at=appeal.received_at,
                ),
            )
    raise AssertionError(f"unhandled command {command!r}")


def _receive(command: ReceiveAppeal, emit: _Emitter) -> tuple[TicketEvent, ...]:
    triage = command.triage
    received = TicketReceived(**emit.header(), appeal=command.appeal, triage=triage)
    outcome: TicketEvent
    if triage.disposition == "dispatch" and triage.lead is not None:
        outcome = TicketDispatched(
            **emit.header(),
            lead=triage.lead,
            co=triage.co,
            category=triage.category,
            town=triage.town,
            urgency=triage.urgency,
        )
    elif triage.disposition == "instant":
        outcome = TicketAnsweredInstantly(**emit.header())
    elif triage.disposition == "transfer":
        outcome = TicketTransferred(**emit.header(), transfer_to=triage.transfer_to or "110")
    else:
        reason = "; ".join(triage.explanation[-1:]) or "router could not decide"
        outcome = TicketQueuedForManualDispatch(
            **emit.header(),
            reason=reason,
            suggestion=triage.suggestion,
        )
    return (received, outcome)


def _rejection(emit: _Emitter, command_type: str, reason: str) -> CommandRejected:
    return CommandRejected(**emit.header(), command_type=command_type, reason=reason)
