"""The ticket lifecycle's decisions: who may do what, in which state, and what it produces.

`domain.ticket.decide.decide` is the entry point; this package holds its parts: the rules taken
from the jurisdiction, the event numbering, and the handlers of units' and the control
room's commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain import public_names

if TYPE_CHECKING:
    from domain.ticket.lifecycle.actions import command_for_action, unit_command_id, unit_of_topic
    from domain.ticket.lifecycle.control import ROLE_MAY, close_as_merged, handle_control_command
    from domain.ticket.lifecycle.emit import Emitter, EventHeader, Rejected, forbidden
    from domain.ticket.lifecycle.rules import DEFAULT_RULES, LifecycleRules, rules_for
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
    from domain.ticket.lifecycle.units import handle_unit_command

__all__ = [
    "Assignment",
    "AssignmentStatus",
    "Callback",
    "DEFAULT_RULES",
    "Emitter",
    "EventHeader",
    "LifecycleRules",
    "OPEN_STATUSES",
    "PendingExtension",
    "PendingReturn",
    "REMEMBERED_COMMANDS",
    "ROLE_MAY",
    "Rejected",
    "TicketState",
    "TicketStatus",
    "WORKING_STATUSES",
    "close_as_merged",
    "command_for_action",
    "forbidden",
    "handle_control_command",
    "handle_unit_command",
    "rules_for",
    "unit_command_id",
    "unit_of_topic",
]

__getattr__ = public_names(
    __name__,
    {
        "Assignment": "state",
        "AssignmentStatus": "state",
        "Callback": "state",
        "DEFAULT_RULES": "rules",
        "Emitter": "emit",
        "EventHeader": "emit",
        "LifecycleRules": "rules",
        "OPEN_STATUSES": "state",
        "PendingExtension": "state",
        "PendingReturn": "state",
        "REMEMBERED_COMMANDS": "state",
        "ROLE_MAY": "control",
        "Rejected": "emit",
        "TicketState": "state",
        "TicketStatus": "state",
        "WORKING_STATUSES": "state",
        "close_as_merged": "control",
        "command_for_action": "actions",
        "forbidden": "emit",
        "handle_control_command": "control",
        "handle_unit_command": "units",
        "rules_for": "rules",
        "unit_command_id": "actions",
        "unit_of_topic": "actions",
    },
)
