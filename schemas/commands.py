"""Commands on `tickets.commands` (imperative; keyed by ticket_id).

Every command carries a deterministic `command_id`, so a command processed
again after a crash or rebalance is recognised and changes nothing.

Three kinds of writer, and the command says who acted:
- intake: `ReceiveAppeal`, `RecordDuplicate`;
- a unit, by the unit-action agent (or the unit HTTP API): `unit` is taken from the topic
  (or the token), never from the unit's payload; `command_id` is `unit:<unit>:<action_id>`;
- the control room (a person, with the role of their token) or the system itself.
Whether the actor may do it is decided by the ticket agent (`domain.ticket.decide`), not here.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from schemas.actions import DURATION_PATTERN, UNIT_TEXT_MAX, ReturnReasonCode
from schemas.appeal import Appeal
from schemas.base import AwareDatetime, WireModel
from schemas.limits import Mark
from schemas.triage import TriageDecision

ControlRole = Literal["control_room", "supervisor", "system"]
CallbackOutcome = Literal["satisfied", "basically_satisfied", "no_comment", "dissatisfied", "unreachable"]
Text = Annotated[str, Field(min_length=1, max_length=UNIT_TEXT_MAX)]


class _Command(WireModel):
    schema_version: Literal[1] = 1
    command_id: str = Field(min_length=1)
    ticket_id: str = Field(min_length=1)
    issued_at: AwareDatetime


class ReceiveAppeal(_Command):
    """Open a ticket for a new appeal, with the router's decision."""

    type: Literal["receive_appeal"] = "receive_appeal"
    appeal: Appeal
    triage: TriageDecision


class RecordDuplicate(_Command):
    """The same `channel:source_id` arrived again: note it on the existing ticket."""

    type: Literal["record_duplicate"] = "record_duplicate"
    appeal: Appeal


# --- a unit's commands (承办单位) --------------------------------------------------------------


class _UnitCommand(_Command):
    unit: str = Field(min_length=1, description="The acting unit, from the topic or token it used.")
    action_id: str = Field(min_length=1)


class SignOrder(_UnitCommand):
    type: Literal["sign_order"] = "sign_order"


class ReturnOrder(_UnitCommand):
    type: Literal["return_order"] = "return_order"
    reason_code: ReturnReasonCode
    reason: Text
    suggested_unit: str | None = None


class RequestExtension(_UnitCommand):
    type: Literal["request_extension"] = "request_extension"
    extra: str = Field(pattern=DURATION_PATTERN)
    reason: Text


class NoteProgress(_UnitCommand):
    type: Literal["note_progress"] = "note_progress"
    note: Text


class ReportPart(_UnitCommand):
    type: Literal["report_part"] = "report_part"
    report: Text


class CompleteTicket(_UnitCommand):
    type: Literal["complete_ticket"] = "complete_ticket"
    reply: Text


# --- the control room's commands (热线中心) ---------------------------------------------------


class _ControlCommand(_Command):
    operator: str = Field(min_length=1, description="Who decided: the token's subject, or `auto`.")
    role: ControlRole


class DispatchTicket(_ControlCommand):
    """A person dispatches a ticket from the manual queue; category and town may be corrected."""

    type: Literal["dispatch_ticket"] = "dispatch_ticket"
    lead: str = Field(min_length=1)
    co: tuple[str, ...] = ()
    category: str | None = None
    town: str | None = None


class RedispatchTicket(_ControlCommand):
    """改派: to the units named, or (`lead` None) to the router's next candidate."""

    type: Literal["redispatch_ticket"] = "redispatch_ticket"
    lead: str | None = None
    co: tuple[str, ...] | None = None  # None: the co units stay as they are
    reason: Text


class DenyReturn(_ControlCommand):
    """The return is not accepted: the order stays with the unit that returned it."""

    type: Literal["deny_return"] = "deny_return"
    reason: Text


class GrantExtension(_ControlCommand):
    """Grant the pending extension: as asked (`extra` None) or less; capped by `extension_max`."""

    type: Literal["grant_extension"] = "grant_extension"
    extra: str | None = Field(default=None, pattern=DURATION_PATTERN)


class DenyExtension(_ControlCommand):
    type: Literal["deny_extension"] = "deny_extension"
    reason: Text


class RecordCallback(_ControlCommand):
    """回访 of one citizen (`citizen`: their `channel:source_id`; None: the ticket's own caller)."""

    type: Literal["record_callback"] = "record_callback"
    citizen: str | None = None
    outcome: CallbackOutcome
    note: str = Field(default="", max_length=UNIT_TEXT_MAX)
    solved: bool | None = Field(default=None, description="是否解决: asked apart from satisfaction.")


class ReworkTicket(_ControlCommand):
    """发回重办: a dissatisfied result goes back to the same units with the rework limit."""

    type: Literal["rework_ticket"] = "rework_ticket"
    reason: Text


class JudgeUnreasonable(_ControlCommand):
    """The supervisor judges a dissatisfied demand unreasonable: the ticket closes, with why."""

    type: Literal["judge_unreasonable"] = "judge_unreasonable"
    reason: Text


class DeclareConfidential(_ControlCommand):
    """声明保密: the hotline withholds the caller from units and the public from now on, whatever
    triage read (a report it did not recognise, a caller who fears retaliation)."""

    type: Literal["declare_confidential"] = "declare_confidential"
    reason: Text


class CloseTicket(_ControlCommand):
    """销号 by the hotline: a ticket no unit is working on (manual, returned, completed)."""

    type: Literal["close_ticket"] = "close_ticket"
    reason: Text


class MergeAppeal(_ControlCommand):
    """多人反映: attach another ticket's appeal (its citizen) to this open ticket; that one closes."""

    type: Literal["merge_appeal"] = "merge_appeal"
    source_ticket_id: str = Field(min_length=1)
    source_appeal: Appeal
    score: float | None = Field(default=None, ge=0, le=1)


class RecordRepeatCall(_ControlCommand):
    """重复来电: the caller of another ticket called before about this matter; that one closes."""

    type: Literal["record_repeat_call"] = "record_repeat_call"
    source_ticket_id: str = Field(min_length=1)
    source_intake_key: str = Field(min_length=1)
    source_received_at: AwareDatetime
    score: float | None = Field(default=None, ge=0, le=1)


class CloseAsMerged(_Command):
    """Issued by the ticket agent after a merge: the merged ticket closes into the other."""

    type: Literal["close_as_merged"] = "close_as_merged"
    into_ticket_id: str = Field(min_length=1)


class BlowWhistle(_UnitCommand):
    """街乡吹哨: a town holding the ticket calls `units` in, with why."""

    type: Literal["blow_whistle"] = "blow_whistle"
    units: tuple[str, ...] = Field(min_length=1, max_length=20)
    reason: Text


class ReportIn(_UnitCommand):
    """部门报到: a whistled unit reports in (to `whistle_id`, or its oldest open whistle)."""

    type: Literal["report_in"] = "report_in"
    whistle_id: str | None = None
    note: str = Field(default="", max_length=UNIT_TEXT_MAX)


class FlagLimit(_Command):
    """From the timers: clock `clock` (its key) of version `limit_version` reached `mark`.

    `command_id` is `<ticket>:<clock>:<mark>:<limit_version>`, so a mark fires once however
    often a restarted timer sends it; one for an older version of the clock changes nothing.
    """

    type: Literal["flag_limit"] = "flag_limit"
    clock: str = Field(min_length=1)
    mark: Mark
    limit_version: int = Field(ge=0)


TIMING_UNIT_COMMANDS = (BlowWhistle, ReportIn)
UNIT_COMMANDS = (
    SignOrder,
    ReturnOrder,
    RequestExtension,
    NoteProgress,
    ReportPart,
    CompleteTicket,
    *TIMING_UNIT_COMMANDS,
)
UnitCommand = (
    SignOrder
    | ReturnOrder
    | RequestExtension
    | NoteProgress
    | ReportPart
    | CompleteTicket
    | BlowWhistle
    | ReportIn
)
ControlCommand = (
    DispatchTicket
    | RedispatchTicket
    | DenyReturn
    | GrantExtension
    | DenyExtension
    | RecordCallback
    | ReworkTicket
    | JudgeUnreasonable
    | DeclareConfidential
    | CloseTicket
    | MergeAppeal
    | RecordRepeatCall
)
TicketCommand = Annotated[
    ReceiveAppeal | RecordDuplicate | UnitCommand | ControlCommand | CloseAsMerged | FlagLimit,
    Field(discriminator="type"),
]
