"""The ticket aggregate: its state, and the fold of its events into that state.

Lifecycle (DESIGN.md): received → instant | transferred | manual | dispatched → signed →
completed → (callback) → closed, with return → redispatch, extension requested → granted /
denied, callback dissatisfied → rework (dispatched again) or judged unreasonable (closed).
Each unit holding the ticket has its own sub-state (`Assignment`): the lead signs and
completes, each co unit signs and reports its part.
"""

from __future__ import annotations

from datetime import datetime

from domain.ticket.lifecycle.state import (
    OPEN_STATUSES,
    REMEMBERED_COMMANDS,
    WORKING_STATUSES,
    Assignment,
    AssignmentStatus,
    Callback,
    PendingExtension,
    PendingReturn,
    TicketState,
    TicketStatus,
)
from domain.time_limits.whistles import whistle_changes
from schemas.events import (
    AppealMerged,
    CallbackRecorded,
    CallerWithheld,
    CommandRejected,
    DemandJudgedUnreasonable,
    DuplicateReceived,
    ExtensionDenied,
    ExtensionGranted,
    ExtensionRequested,
    LimitAtRisk,
    LimitOverdue,
    OrderReturned,
    OrderSigned,
    PartReported,
    ProgressNoted,
    RepeatCallRecorded,
    ReturnDenied,
    TicketAnsweredInstantly,
    TicketClosed,
    TicketCompleted,
    TicketDispatched,
    TicketEvent,
    TicketQueuedForManualDispatch,
    TicketReceived,
    TicketRedispatched,
    TicketReworked,
    TicketSupervised,
    TicketTransferred,
    UnitReportedIn,
    WhistleBlown,
)


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
        | ({"clocks": event.clocks} if event.clocks is not None else {})
    )
    return base.model_copy(update=_changes(base, event))


def _changes(state: TicketState, event: TicketEvent) -> dict[str, object]:
    match event:
        case TicketDispatched():
            dispatched = _assigned(event.lead, event.co, event.occurred_at, ())
            return dispatched | {
                "status": TicketStatus.DISPATCHED,
                "category": event.category,
                "town": event.town,
            }
        case TicketAnsweredInstantly():
            return {"status": TicketStatus.INSTANT}
        case TicketTransferred():
            return {"status": TicketStatus.TRANSFERRED}
        case TicketQueuedForManualDispatch():
            # Nobody holds a ticket waiting for a person (a redispatch with no candidate left).
            return {
                "status": TicketStatus.MANUAL,
                "pending_return": None,
                "pending_extension": None,
                "assignments": (),
                "lead": None,
                "co": (),
            }
        case DuplicateReceived():
            return {"duplicates": state.duplicates + 1}
        case CommandRejected():
            return {"rejected_commands": state.rejected_commands + 1}
        case TicketReceived():
            raise FoldError(f"{event.ticket_id}: ticket_received on an existing ticket")
    return _work_changes(state, event)


def _work_changes(state: TicketState, event: TicketEvent) -> dict[str, object]:
    """What the units' work on their orders changes, and the control room's answer to a return."""
    match event:
        case OrderSigned():
            signed = _with_status(state, event.unit, AssignmentStatus.SIGNED, event.occurred_at)
            if event.role == "lead":
                return signed | {"status": TicketStatus.SIGNED, "signed_at": event.occurred_at}
            return signed
        case OrderReturned():
            return _returned(state, event)
        case ReturnDenied():
            pending = _pending_return(state, event)
            back = _with_status(state, pending.unit, pending.was, event.occurred_at)
            status = (
                TicketStatus.SIGNED if pending.was == AssignmentStatus.SIGNED else TicketStatus.DISPATCHED
            )
            return back | {"status": status, "lead": pending.unit, "pending_return": None}
        case TicketRedispatched():
            return _assigned(event.lead, event.co, event.occurred_at, state.assignments) | {
                "status": TicketStatus.DISPATCHED,
                "pending_return": None,
                "pending_extension": None,
                "signed_at": None,
            }
        case ProgressNoted():
            return {"progress_notes": state.progress_notes + 1}
        case PartReported():
            return _with_status(state, event.unit, AssignmentStatus.REPORTED, event.occurred_at)
        case TicketCompleted():
            done = _with_status(state, event.unit, AssignmentStatus.COMPLETED, event.occurred_at)
            return done | {
                "status": TicketStatus.COMPLETED,
                "reply": event.reply,
                "completed_at": event.occurred_at,
                "pending_extension": None,
                "callbacks": (),
            }
    return _extension_changes(state, event)


def _extension_changes(state: TicketState, event: TicketEvent) -> dict[str, object]:
    """A unit asking for more time, and the control room granting or denying it."""
    match event:
        case ExtensionRequested():
            asked = PendingExtension(
                unit=event.unit, extra=event.extra, reason=event.reason, requested_at=event.occurred_at
            )
            return {"pending_extension": asked}
        case ExtensionGranted():
            return {"pending_extension": None, "extensions": (*state.extensions, event.granted)}
        case ExtensionDenied():
            return {"pending_extension": None}
    return _after_completion_changes(state, event)


def _after_completion_changes(state: TicketState, event: TicketEvent) -> dict[str, object]:
    match event:
        case CallbackRecorded():
            callback = Callback(
                citizen=event.citizen, outcome=event.outcome, attempts=event.attempt, final=event.final
            )
            callbacks = (*(c for c in state.callbacks if c.citizen != event.citizen), callback)
            status = state.status
            finals = {c.citizen: c for c in callbacks if c.final}
            if set(state.callback_targets) <= set(finals) and any(
                c.outcome == "dissatisfied" for c in finals.values()
            ):
                status = TicketStatus.DISSATISFIED
            return {"callbacks": callbacks, "status": status}
        case TicketReworked():
            return _assigned(event.lead, event.co, event.occurred_at, ()) | {
                "status": TicketStatus.DISPATCHED,
                "rework_count": event.rework_count,
                "signed_at": None,
                "callbacks": (),
            }
        case DemandJudgedUnreasonable():
            return {}
        case AppealMerged():
            return {"citizens": (*state.citizens, event.citizen)}
        case CallerWithheld():
            return {
                "appeal": state.appeal.model_copy(update={"confidential": True}),
                "triage": state.triage.model_copy(update={"caller_withheld": True}),
            }
        case RepeatCallRecorded():
            return {"repeat_calls": (*state.repeat_calls, event.source_ticket_id)}
        case LimitAtRisk() | LimitOverdue() | TicketSupervised() | WhistleBlown() | UnitReportedIn():
            return whistle_changes(state.whistles, event)
        case TicketClosed():
            return {
                "status": TicketStatus.CLOSED,
                "closed_at": event.occurred_at,
                "resolution": event.resolution,
                "merged_into": event.merged_into,
                "pending_return": None,
                "pending_extension": None,
            }
    raise FoldError(f"{event.ticket_id}: unknown event {event!r}")


def _assigned(
    lead: str, co: tuple[str, ...], at: datetime, kept: tuple[Assignment, ...]
) -> dict[str, object]:
    """The units holding the ticket now: `lead` and `co`; a co unit staying co keeps its sub-state."""
    previous = {a.unit: a for a in kept if a.role == "co"}
    assignments = [Assignment(unit=lead, role="lead", status=AssignmentStatus.DISPATCHED, since=at)]
    for unit in co:
        assignments.append(
            previous.get(unit)
            or Assignment(unit=unit, role="co", status=AssignmentStatus.DISPATCHED, since=at)
        )
    return {"lead": lead, "co": co, "assignments": tuple(assignments)}


def _with_status(state: TicketState, unit: str, status: AssignmentStatus, at: datetime) -> dict[str, object]:
    if state.assignment(unit) is None:
        raise FoldError(f"{state.ticket_id}: {unit} holds no order")
    return {
        "assignments": tuple(
            a.model_copy(update={"status": status, "since": at}) if a.unit == unit else a
            for a in state.assignments
        )
    }


def _returned(state: TicketState, event: OrderReturned) -> dict[str, object]:
    returned_by = (*state.returned_by, event.unit)
    if event.role == "co":
        return {
            "assignments": tuple(a for a in state.assignments if a.unit != event.unit),
            "co": tuple(u for u in state.co if u != event.unit),
            "returned_by": returned_by,
        }
    held = state.assignment(event.unit)
    if held is None:
        raise FoldError(f"{state.ticket_id}: {event.unit} returned an order it does not hold")
    pending = PendingReturn(
        unit=event.unit,
        reason_code=event.reason_code,
        reason=event.reason,
        suggested_unit=event.suggested_unit,
        was=held.status,
    )
    marked = _with_status(state, event.unit, AssignmentStatus.RETURNED, event.occurred_at)
    return marked | {
        "status": TicketStatus.RETURNED,
        "lead": None,
        "pending_return": pending,
        "pending_extension": None,
        "returned_by": returned_by,
    }


def _pending_return(state: TicketState, event: ReturnDenied) -> PendingReturn:
    if state.pending_return is None:
        raise FoldError(f"{event.ticket_id}: return denied with no return pending")
    return state.pending_return


def replay(events: list[TicketEvent]) -> TicketState | None:
    """Fold a ticket's whole log, oldest first."""
    state: TicketState | None = None
    for event in events:
        state = fold(state, event)
    return state


__all__ = [
    "OPEN_STATUSES",
    "REMEMBERED_COMMANDS",
    "WORKING_STATUSES",
    "Assignment",
    "AssignmentStatus",
    "Callback",
    "FoldError",
    "PendingExtension",
    "PendingReturn",
    "TicketState",
    "TicketStatus",
    "fold",
    "replay",
]
