"""Command handling: validate a command against the ticket's state and say what happened.

`decide(state, command, now)` is pure. A command that does not fit is rejected: a
`CommandRejected` event (kept in the log, alerted) that changes nothing but the version and
the count of rejections. A command on a ticket that does not exist has no log to be kept in:
it comes back as a `Refusal`, which the agent alerts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.ticket.fold import TicketState, fold
from domain.ticket.lifecycle.control import close_as_merged, handle_control_command
from domain.ticket.lifecycle.emit import Emitter, EventHeader, Rejected
from domain.ticket.lifecycle.rules import DEFAULT_RULES, LifecycleRules
from domain.ticket.lifecycle.units import handle_unit_command
from domain.time_limits.decisions import TIMING_COMMANDS, handle_timing_command, with_timing
from schemas.commands import (
    UNIT_COMMANDS,
    CloseAsMerged,
    ReceiveAppeal,
    RecordDuplicate,
    TicketCommand,
)
from schemas.events import (
    AppealMerged,
    CommandRejected,
    DuplicateReceived,
    RepeatCallRecorded,
    TicketAnsweredInstantly,
    TicketDispatched,
    TicketEvent,
    TicketQueuedForManualDispatch,
    TicketReceived,
    TicketTransferred,
    Violation,
)


@dataclass(frozen=True)
class Refusal:
    """A command for a ticket this partition does not know; nothing to fold it into."""

    command_id: str
    command_type: str
    ticket_id: str
    reason: str
    violation: Violation
    actor: str | None


@dataclass(frozen=True)
class Decision:
    """The events a command produced and the state after them. `events` is empty for a replay.

    `follow_ups` are commands for other tickets that this one's events call for (after a
    merge, the merged ticket closes); `refused` is set for a command on an unknown ticket.
    """

    events: tuple[TicketEvent, ...]
    state: TicketState | None
    refused: Refusal | None = None
    follow_ups: tuple[TicketCommand, ...] = ()

    @property
    def rejected(self) -> tuple[CommandRejected, ...]:
        return tuple(e for e in self.events if isinstance(e, CommandRejected))


def decide(
    state: TicketState | None, command: TicketCommand, now: datetime, rules: LifecycleRules = DEFAULT_RULES
) -> Decision:
    """Handle one command: new events and the folded state; a processed command yields nothing."""
    if state is not None and state.has_processed(command.command_id):
        return Decision(events=(), state=state)
    if state is None and not isinstance(command, ReceiveAppeal):
        return Decision(events=(), state=None, refused=_refusal(command))
    emit = Emitter(command.ticket_id, state.version if state else 0, command.command_id, now)
    try:
        events = _events_for(state, command, emit, rules)
        if rules.limits is not None:
            events = with_timing(state, events, emit, rules.limits)
    except Rejected as rejected:
        emit = Emitter(command.ticket_id, state.version if state else 0, command.command_id, now)
        events = (_rejection(emit, command, rejected),)
    for event in events:
        state = fold(state, event)
    return Decision(events=events, state=state, follow_ups=_follow_ups(events))


def _events_for(
    state: TicketState | None, command: TicketCommand, emit: Emitter, rules: LifecycleRules
) -> tuple[TicketEvent, ...]:
    match command:
        case ReceiveAppeal():
            if state is not None:
                raise Rejected("ticket already exists")
            return _receive(command, emit)
        case RecordDuplicate():
            # A duplicate follows its ticket on the same partition (ADR 0001); one for a ticket
            # that does not exist was written by a broken client and is refused above.
            assert state is not None
            appeal = command.appeal
            return (
                DuplicateReceived(
                    **emit.header(),
                    channel=appeal.channel,
                    source_id=appeal.source_id,
                    received_at=appeal.received_at,
                ),
            )
    assert state is not None  # decide() refuses other commands on an unknown ticket
    if isinstance(command, TIMING_COMMANDS):
        return handle_timing_command(state, command, emit, rules.limits)
    if isinstance(command, UNIT_COMMANDS):
        return handle_unit_command(state, command, emit, rules)
    if isinstance(command, CloseAsMerged):
        return close_as_merged(state, command, emit)
    return handle_control_command(state, command, emit, rules)


def _receive(command: ReceiveAppeal, emit: Emitter) -> tuple[TicketEvent, ...]:
    triage = command.triage
    received = TicketReceived(**emit.header(), appeal=command.appeal, triage=triage)
    outcome: TicketEvent
    desk = command.appeal.desk
    if triage.disposition == "dispatch" and triage.lead is not None:
        outcome = TicketDispatched(
            **emit.header(),
            lead=triage.lead,
            co=triage.co,
            category=triage.category,
            town=triage.town,
            urgency=triage.urgency,
            **({"by": "person", "operator": desk.operator} if desk is not None else {}),
        )
    elif triage.disposition == "instant":
        answer = desk.answer if desk is not None else None
        outcome = TicketAnsweredInstantly(
            **emit.header(),
            answer=answer.text if answer else None,
            entry_id=answer.entry_id if answer else None,
            source=answer.source if answer else None,
            operator=desk.operator if desk is not None else None,
        )
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


def actor_of(command: TicketCommand) -> str | None:
    """Who sent a command, as alerts name them: the unit, or `<role>:<operator>`."""
    unit = getattr(command, "unit", None)
    if isinstance(unit, str):
        return unit
    operator, role = getattr(command, "operator", None), getattr(command, "role", None)
    return f"{role}:{operator}" if operator else None


def _rejection(emit: Emitter, command: TicketCommand, rejected: Rejected) -> CommandRejected:
    return CommandRejected(
        **emit.header(),
        command_type=command.type,
        reason=rejected.reason,
        violation=rejected.violation,
        actor=actor_of(command),
    )


def _refusal(command: TicketCommand) -> Refusal:
    # A unit naming a ticket it was never sent is probing, or broken: a security matter.
    violation: Violation = "authorization" if isinstance(command, UNIT_COMMANDS) else "state"
    return Refusal(
        command_id=command.command_id,
        command_type=command.type,
        ticket_id=command.ticket_id,
        reason="no such ticket",
        violation=violation,
        actor=actor_of(command),
    )


def _follow_ups(events: tuple[TicketEvent, ...]) -> tuple[TicketCommand, ...]:
    """After a merge (or a repeat call) the other ticket closes into this one; its id derives
    from the event."""
    return tuple(
        CloseAsMerged(
            command_id=f"merged:{event.event_id}",
            ticket_id=event.source_ticket_id,
            issued_at=event.occurred_at,
            into_ticket_id=event.ticket_id,
        )
        for event in events
        if isinstance(event, AppealMerged | RepeatCallRecorded)
    )


__all__ = ["Decision", "EventHeader", "Refusal", "actor_of", "decide"]
