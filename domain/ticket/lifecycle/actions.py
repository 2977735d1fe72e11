"""From a unit's action to the ticket agent's command: the unit comes from where the action
arrived (its topic or its HTTP token), never from the payload."""

from __future__ import annotations

from datetime import datetime

from schemas.actions import (
    CompleteAction,
    NoteProgressAction,
    ReportInAction,
    ReportPartAction,
    RequestExtensionAction,
    ReturnAction,
    SignAction,
    UnitAction,
    WhistleAction,
)
from schemas.commands import (
    BlowWhistle,
    CompleteTicket,
    NoteProgress,
    ReportIn,
    ReportPart,
    RequestExtension,
    ReturnOrder,
    SignOrder,
    UnitCommand,
)


def unit_command_id(unit: str, action_id: str) -> str:
    """The command's id: the unit's own idempotency key, scoped by the unit that chose it."""
    return f"unit:{unit}:{action_id}"


def command_for_action(unit: str, action: UnitAction, now: datetime) -> UnitCommand:
    """The command for one unit action; the same action again makes the same command id."""
    header = {
        "command_id": unit_command_id(unit, action.action_id),
        "ticket_id": action.ticket_id,
        "issued_at": now,
        "unit": unit,
        "action_id": action.action_id,
    }
    match action:
        case SignAction():
            return SignOrder.model_validate(header)
        case ReturnAction():
            return ReturnOrder.model_validate(
                header
                | {
                    "reason_code": action.reason_code,
                    "reason": action.reason,
                    "suggested_unit": action.suggested_unit,
                }
            )
        case RequestExtensionAction():
            return RequestExtension.model_validate(header | {"extra": action.extra, "reason": action.reason})
        case NoteProgressAction():
            return NoteProgress.model_validate(header | {"note": action.note})
        case ReportPartAction():
            return ReportPart.model_validate(header | {"report": action.report})
        case CompleteAction():
            return CompleteTicket.model_validate(header | {"reply": action.reply})
        case WhistleAction():
            return BlowWhistle.model_validate(header | {"units": action.units, "reason": action.reason})
        case ReportInAction():
            return ReportIn.model_validate(header | {"whistle_id": action.whistle_id, "note": action.note})
    raise AssertionError(f"unhandled action {action!r}")


def unit_of_topic(topic: str, prefix: str) -> str | None:
    """`<prefix>units.<unit>.actions` → `<unit>`; None for any other topic."""
    name = topic.removeprefix(prefix) if topic.startswith(prefix) else None
    if name is None or not (name.startswith("units.") and name.endswith(".actions")):
        return None
    unit = name[len("units.") : -len(".actions")]
    return unit if unit and "." not in unit else None
