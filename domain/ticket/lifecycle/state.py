"""The ticket's state: overall status, each unit's sub-state, what is pending.

Importable from `domain.ticket.fold`, with the fold that builds it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.time_limits.whistles import Whistle
from schemas.actions import ReturnReasonCode
from schemas.appeal import Appeal
from schemas.commands import CallbackOutcome
from schemas.events import Citizen, Resolution, Role
from schemas.limits import Clock
from schemas.triage import TriageDecision

# How many processed command ids a ticket remembers, to recognise a command seen again.
REMEMBERED_COMMANDS = 64


class TicketStatus(StrEnum):
    RECEIVED = "received"
    INSTANT = "instant"
    TRANSFERRED = "transferred"
    MANUAL = "manual"  # awaiting a person to dispatch it
    DISPATCHED = "dispatched"  # the lead has not signed yet
    SIGNED = "signed"  # the lead signed and is working on it
    RETURNED = "returned"  # the lead returned it; the control room redispatches or denies
    COMPLETED = "completed"  # the lead reported the result; awaiting the callback
    DISSATISFIED = "dissatisfied"  # a citizen is dissatisfied: rework, or judged unreasonable
    CLOSED = "closed"


OPEN_STATUSES = frozenset(
    {
        TicketStatus.RECEIVED,
        TicketStatus.MANUAL,
        TicketStatus.DISPATCHED,
        TicketStatus.SIGNED,
        TicketStatus.RETURNED,
        TicketStatus.COMPLETED,
        TicketStatus.DISSATISFIED,
    }
)
# Statuses in which units are at work on the ticket.
WORKING_STATUSES = frozenset({TicketStatus.DISPATCHED, TicketStatus.SIGNED, TicketStatus.RETURNED})


class AssignmentStatus(StrEnum):
    DISPATCHED = "dispatched"
    SIGNED = "signed"
    REPORTED = "reported"  # a co unit reported its part
    COMPLETED = "completed"  # the lead reported the result
    RETURNED = "returned"  # the lead's return awaits the control room


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Assignment(_Frozen):
    """One unit's hold on the ticket and how far it got."""

    unit: str
    role: Role
    status: AssignmentStatus
    since: datetime


class PendingReturn(_Frozen):
    unit: str
    reason_code: ReturnReasonCode
    reason: str
    suggested_unit: str | None
    was: AssignmentStatus  # the lead's sub-state before, restored when the return is denied


class PendingExtension(_Frozen):
    unit: str
    extra: str
    reason: str
    requested_at: datetime


class Callback(_Frozen):
    """The callback of one citizen so far."""

    citizen: str
    outcome: CallbackOutcome
    attempts: int
    final: bool


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
    category: str | None = None  # as dispatched (a person may correct the router's)
    town: str | None = None
    assignments: tuple[Assignment, ...] = ()
    returned_by: tuple[str, ...] = ()
    pending_return: PendingReturn | None = None
    pending_extension: PendingExtension | None = None
    extensions: tuple[str, ...] = ()
    signed_at: datetime | None = None
    completed_at: datetime | None = None
    closed_at: datetime | None = None
    reply: str | None = None
    progress_notes: int = 0
    callbacks: tuple[Callback, ...] = ()
    rework_count: int = 0
    citizens: tuple[Citizen, ...] = ()
    resolution: Resolution | None = None
    merged_into: str | None = None
    repeat_calls: tuple[str, ...] = ()  # 重复来电: tickets closed into this one, its callers calling again
    clocks: tuple[
        Clock, ...
    ] = ()  # the running time limits (domain.time_limits.clock_changes), as the events set them
    whistles: tuple[Whistle, ...] = ()  # 吹哨: who was called, who reported in, who is late

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def has_processed(self, command_id: str) -> bool:
        return command_id in self.recent_command_ids

    def assignment(self, unit: str) -> Assignment | None:
        return next((a for a in self.assignments if a.unit == unit), None)

    @property
    def callback_targets(self) -> tuple[str, ...]:
        """Every citizen to call back: the ticket's own caller first, then the merged ones."""
        return (self.appeal.intake_key, *(c.intake_key for c in self.citizens))

    def callback(self, citizen: str) -> Callback | None:
        return next((c for c in self.callbacks if c.citizen == citizen), None)
