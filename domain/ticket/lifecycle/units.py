"""A unit's commands: the unit must hold the ticket, its role must allow the action, and the
ticket and the unit's own sub-state must fit it.

The first two are authorization (a unit acting on a ticket not assigned to it, a co unit
completing): rejected and alerted as security. The last is an ordinary state rejection.
"""

from __future__ import annotations

from domain.ticket.fold import WORKING_STATUSES, Assignment, AssignmentStatus, TicketState
from domain.ticket.lifecycle.emit import Emitter, Rejected, forbidden
from domain.ticket.lifecycle.rules import LifecycleRules
from schemas.commands import (
    CompleteTicket,
    NoteProgress,
    ReportPart,
    RequestExtension,
    ReturnOrder,
    SignOrder,
    UnitCommand,
)
from schemas.events import (
    ExtensionRequested,
    OrderReturned,
    OrderSigned,
    PartReported,
    ProgressNoted,
    Role,
    TicketCompleted,
    TicketEvent,
)

# What each role may do at all (签收, 退单, 延期, 进展, 协办反馈, 办结).
ROLE_MAY: dict[Role, frozenset[str]] = {
    "lead": frozenset(
        {"sign_order", "return_order", "request_extension", "note_progress", "complete_ticket"}
    ),
    "co": frozenset({"sign_order", "return_order", "note_progress", "report_part"}),
}


def authorize(state: TicketState, command: UnitCommand) -> Assignment:
    """The acting unit's assignment, if it holds the ticket and its role may do this."""
    held = state.assignment(command.unit)
    if held is None:
        raise forbidden(f"ticket is not assigned to unit {command.unit}")
    if command.type not in ROLE_MAY[held.role]:
        raise forbidden(f"a {held.role} unit may not {command.type.replace('_', ' ')}")
    return held


def handle_unit_command(
    state: TicketState, command: UnitCommand, emit: Emitter, rules: LifecycleRules
) -> tuple[TicketEvent, ...]:
    held = authorize(state, command)
    unit, role = command.unit, held.role
    if state.status not in WORKING_STATUSES:
        raise Rejected(f"ticket is {state.status.value}: units act only while it is being worked on")
    match command:
        case SignOrder():
            _require(held, (AssignmentStatus.DISPATCHED,), "sign")
            return (OrderSigned(**emit.header(), unit=unit, role=role),)
        case ReturnOrder():
            _require(held, (AssignmentStatus.DISPATCHED, AssignmentStatus.SIGNED), "return")
            suggested = command.suggested_unit
            if suggested is not None and (suggested == unit or not rules.knows_unit(suggested)):
                raise Rejected(f"suggested unit {suggested} is not another unit of the jurisdiction")
            return (
                OrderReturned(
                    **emit.header(),
                    unit=unit,
                    role=role,
                    reason_code=command.reason_code,
                    reason=command.reason,
                    suggested_unit=suggested,
                ),
            )
        case NoteProgress():
            _require(held, (AssignmentStatus.SIGNED, AssignmentStatus.REPORTED), "note progress")
            return (ProgressNoted(**emit.header(), unit=unit, role=role, note=command.note),)
        case ReportPart():
            _require(held, (AssignmentStatus.SIGNED,), "report its part")
            return (PartReported(**emit.header(), unit=unit, report=command.report),)
    return _lead_only(state, command, held, emit)


def _lead_only(
    state: TicketState, command: UnitCommand, held: Assignment, emit: Emitter
) -> tuple[TicketEvent, ...]:
    match command:
        case RequestExtension():
            _require(held, (AssignmentStatus.SIGNED,), "request an extension")
            if state.pending_extension is not None:
                raise Rejected("an extension request is already pending")
            return (
                ExtensionRequested(
                    **emit.header(), unit=command.unit, extra=command.extra, reason=command.reason
                ),
            )
        case CompleteTicket():
            _require(held, (AssignmentStatus.SIGNED,), "complete")
            outstanding = tuple(
                a.unit for a in state.assignments if a.role == "co" and a.status != AssignmentStatus.REPORTED
            )
            return (
                TicketCompleted(
                    **emit.header(), unit=command.unit, reply=command.reply, co_outstanding=outstanding
                ),
            )
    raise AssertionError(f"unhandled unit command {command!r}")


def _require(held: Assignment, allowed: tuple[AssignmentStatus, ...], doing: str) -> None:
    if held.status not in allowed:
        raise Rejected(f"unit {held.unit} cannot {doing}: its order is {held.status.value}")


__all__ = ["ROLE_MAY", "authorize", "handle_unit_command"]
