"""Events on `tickets.events` (past tense; keyed by ticket_id; written only by the ticket agent).

`event_id` is `<ticket_id>:<version>`: deterministic, so every consumer can be
idempotent on it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from schemas.actions import ReturnReasonCode
from schemas.appeal import Appeal, Caller
from schemas.base import AwareDatetime, WireModel
from schemas.commands import CallbackOutcome
from schemas.kb import MAX_ANSWER_CHARS
from schemas.limits import Clock, ClockKind
from schemas.triage import TriageDecision, Urgency

Role = Literal["lead", "co"]
DispatchedBy = Literal["router", "person"]
# Why a command was rejected: it does not fit the ticket's state, or the actor may not do it
# at all (a unit acting on another unit's ticket, a co unit completing): a security matter.
Violation = Literal["state", "authorization"]
Resolution = Literal["callback", "unreachable", "unreasonable", "closed_by_hotline", "merged"]


class _Event(WireModel):
    schema_version: Literal[1] = 1
    event_id: str
    ticket_id: str
    version: int = Field(ge=1, le=2**31 - 1)  # the store's int column
    occurred_at: AwareDatetime
    command_id: str
    # The ticket's running clocks after this event, on the events that changed them; None:
    # unchanged. Set by the ticket agent from the jurisdiction's time limits
    # (domain.time_limits.clock_changes).
    clocks: tuple[Clock, ...] | None = None


class TicketReceived(_Event):
    type: Literal["ticket_received"] = "ticket_received"
    appeal: Appeal
    triage: TriageDecision


class TicketDispatched(_Event):
    """派单: by the router at intake, or by a person from the manual queue."""

    type: Literal["ticket_dispatched"] = "ticket_dispatched"
    lead: str
    co: tuple[str, ...] = ()
    category: str
    town: str | None
    urgency: Urgency
    by: DispatchedBy = "router"
    operator: str | None = None


class TicketAnsweredInstantly(_Event):
    """即办: answered on the line. At the desk the operator's answer and its source are kept."""

    type: Literal["ticket_answered_instantly"] = "ticket_answered_instantly"
    answer: str | None = Field(default=None, max_length=MAX_ANSWER_CHARS)
    entry_id: str | None = Field(default=None, max_length=80)  # the knowledge-base entry used
    source: str | None = Field(default=None, max_length=400)
    operator: str | None = Field(default=None, max_length=100)


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
    violation: Violation = "state"
    actor: str | None = None  # the unit, or the control-room operator, who sent it


class OrderSigned(_Event):
    """签收 by the lead or a co unit, each for its own part."""

    type: Literal["order_signed"] = "order_signed"
    unit: str
    role: Role


class OrderReturned(_Event):
    """退单: a lead's return waits for the control room; a co unit's releases it at once."""

    type: Literal["order_returned"] = "order_returned"
    unit: str
    role: Role
    reason_code: ReturnReasonCode
    reason: str
    suggested_unit: str | None = None


class ReturnDenied(_Event):
    type: Literal["return_denied"] = "return_denied"
    unit: str
    reason: str
    operator: str


class TicketRedispatched(_Event):
    """改派: the units holding the order now; those no longer named get a cancellation."""

    type: Literal["ticket_redispatched"] = "ticket_redispatched"
    lead: str
    co: tuple[str, ...] = ()
    by: DispatchedBy
    operator: str
    reason: str


class ExtensionRequested(_Event):
    type: Literal["extension_requested"] = "extension_requested"
    unit: str
    extra: str
    reason: str


class ExtensionGranted(_Event):
    """延期 granted: `granted` is what the limit grows by; `capped` when `extension_max` cut it."""

    type: Literal["extension_granted"] = "extension_granted"
    unit: str
    requested: str
    granted: str
    capped: bool
    operator: str


class ExtensionDenied(_Event):
    type: Literal["extension_denied"] = "extension_denied"
    unit: str
    requested: str
    reason: str
    operator: str


class ProgressNoted(_Event):
    type: Literal["progress_noted"] = "progress_noted"
    unit: str
    role: Role
    note: str


class PartReported(_Event):
    """协办反馈: a co unit's report of its part."""

    type: Literal["part_reported"] = "part_reported"
    unit: str
    report: str


class TicketCompleted(_Event):
    """办结: the lead's reply to the citizen; `co_outstanding` are co units yet to report."""

    type: Literal["ticket_completed"] = "ticket_completed"
    unit: str
    reply: str
    co_outstanding: tuple[str, ...] = ()


class CallbackRecorded(_Event):
    """回访 of one citizen; `final` once answered, or unreachable after the last try."""

    type: Literal["callback_recorded"] = "callback_recorded"
    citizen: str
    outcome: CallbackOutcome
    attempt: int = Field(ge=1)
    final: bool
    operator: str
    note: str = ""
    solved: bool | None = None  # 是否解决, when the citizen was asked it apart from satisfaction


class TicketReworked(_Event):
    """发回重办: dispatched again to the same units, with the rework limit; `rework_count` counts."""

    type: Literal["ticket_reworked"] = "ticket_reworked"
    lead: str
    co: tuple[str, ...] = ()
    rework_count: int = Field(ge=1)
    reason: str
    operator: str


class DemandJudgedUnreasonable(_Event):
    type: Literal["demand_judged_unreasonable"] = "demand_judged_unreasonable"
    reason: str
    operator: str


class Citizen(WireModel):
    """One citizen of a merged ticket (多人反映), called back like the ticket's own caller."""

    intake_key: str
    ticket_id: str
    caller: Caller
    received_at: AwareDatetime


class AppealMerged(_Event):
    type: Literal["appeal_merged"] = "appeal_merged"
    source_ticket_id: str
    citizen: Citizen
    operator: str
    score: float | None = None


class _LimitMarked(_Event):
    """A clock reached one of its marks; `clock` is its key, `limit_version` the clock's version."""

    clock: str
    kind: ClockKind
    unit: str | None
    limit_version: int = Field(ge=0)
    due_at: AwareDatetime
    mark_at: AwareDatetime


class LimitAtRisk(_LimitMarked):
    """预警: the clock passed its `warn_at`."""

    type: Literal["limit_at_risk"] = "limit_at_risk"


class LimitOverdue(_LimitMarked):
    """超期: the clock passed its limit."""

    type: Literal["limit_overdue"] = "limit_overdue"


class TicketSupervised(_LimitMarked):
    """督办: overdue for `escalate_after_overdue`; escalated to the supervision office."""

    type: Literal["ticket_supervised"] = "ticket_supervised"


# Why a whistle was blown: by the town itself, or automatically (a category with several co
# units, a town's return saying it lacks the power to act, a town-led ticket overdue, a cluster).
WhistleTrigger = Literal["town", "co_units", "lacks_power", "overdue", "cluster"]


class WhistleBlown(_Event):
    """街乡吹哨: the town calls `units` in; each must report in within `whistle_report`."""

    type: Literal["whistle_blown"] = "whistle_blown"
    whistle_id: str
    town: str
    units: tuple[str, ...]
    reason: str
    trigger: WhistleTrigger


class UnitReportedIn(_Event):
    """部门报到: a whistled unit acknowledges the town's whistle."""

    type: Literal["unit_reported_in"] = "unit_reported_in"
    whistle_id: str
    unit: str
    note: str = ""


class RepeatCallRecorded(_Event):
    """重复来电: the same caller about the same matter again; `source_ticket_id` closes into this."""

    type: Literal["repeat_call_recorded"] = "repeat_call_recorded"
    source_ticket_id: str
    intake_key: str
    received_at: AwareDatetime
    operator: str
    score: float | None = None


class CallerWithheld(_Event):
    """声明保密: from this event on the caller is withheld (`TriageDecision.caller_withheld`)."""

    type: Literal["caller_withheld"] = "caller_withheld"
    reason: str
    operator: str


class TicketClosed(_Event):
    """销号."""

    type: Literal["ticket_closed"] = "ticket_closed"
    resolution: Resolution
    reason: str
    merged_into: str | None = None


TicketEvent = Annotated[
    TicketReceived
    | TicketDispatched
    | TicketAnsweredInstantly
    | TicketTransferred
    | TicketQueuedForManualDispatch
    | DuplicateReceived
    | CommandRejected
    | OrderSigned
    | OrderReturned
    | ReturnDenied
    | TicketRedispatched
    | ExtensionRequested
    | ExtensionGranted
    | ExtensionDenied
    | ProgressNoted
    | PartReported
    | TicketCompleted
    | CallbackRecorded
    | TicketReworked
    | DemandJudgedUnreasonable
    | AppealMerged
    | RepeatCallRecorded
    | CallerWithheld
    | TicketClosed
    | LimitAtRisk
    | LimitOverdue
    | TicketSupervised
    | WhistleBlown
    | UnitReportedIn,
    Field(discriminator="type"),
]
TICKET_EVENT: TypeAdapter[TicketEvent] = TypeAdapter(TicketEvent)
