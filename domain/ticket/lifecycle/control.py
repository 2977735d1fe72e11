"""The control room's commands: manual dispatch, redispatch, decisions on returns and
extensions, callbacks, rework, the supervisor's judgement, declaring the caller confidential,
close and merge."""

from __future__ import annotations

from domain.ticket.fold import OPEN_STATUSES, TicketState, TicketStatus, fold
from domain.ticket.lifecycle.emit import Emitter, Rejected, forbidden
from domain.ticket.lifecycle.rules import LifecycleRules, capped_extension, next_candidate
from schemas.commands import (
    CloseAsMerged,
    CloseTicket,
    ControlCommand,
    ControlRole,
    DeclareConfidential,
    DenyExtension,
    DenyReturn,
    DispatchTicket,
    GrantExtension,
    JudgeUnreasonable,
    MergeAppeal,
    RecordCallback,
    RecordRepeatCall,
    RedispatchTicket,
    ReworkTicket,
)
from schemas.events import (
    AppealMerged,
    CallbackRecorded,
    CallerWithheld,
    Citizen,
    DemandJudgedUnreasonable,
    ExtensionDenied,
    ExtensionGranted,
    RepeatCallRecorded,
    ReturnDenied,
    TicketClosed,
    TicketDispatched,
    TicketEvent,
    TicketQueuedForManualDispatch,
    TicketRedispatched,
    TicketReworked,
)

_CONTROL_ROOM = frozenset(
    {
        "dispatch_ticket",
        "redispatch_ticket",
        "deny_return",
        "grant_extension",
        "deny_extension",
        "record_callback",
        "rework_ticket",
        "close_ticket",
        "merge_appeal",
        "record_repeat_call",
        "declare_confidential",
    }
)
# Who may do what: the supervisor alone judges a demand unreasonable; the system (automatic
# cluster detection) only merges.
ROLE_MAY: dict[ControlRole, frozenset[str]] = {
    "control_room": _CONTROL_ROOM,
    "supervisor": _CONTROL_ROOM | {"judge_unreasonable"},
    "system": frozenset({"merge_appeal", "record_repeat_call"}),
}
INSTANT_NOT_ENOUGH = "即办答复回访不满意：转人工派单"
CLOSABLE = frozenset({TicketStatus.MANUAL, TicketStatus.RETURNED, TicketStatus.COMPLETED})
REDISPATCHABLE = frozenset({TicketStatus.DISPATCHED, TicketStatus.SIGNED, TicketStatus.RETURNED})


def handle_control_command(
    state: TicketState, command: ControlCommand, emit: Emitter, rules: LifecycleRules
) -> tuple[TicketEvent, ...]:
    if command.type not in ROLE_MAY[command.role]:
        raise forbidden(f"role {command.role} may not {command.type.replace('_', ' ')}")
    match command:
        case DispatchTicket():
            return (_dispatch(state, command, emit, rules),)
        case RedispatchTicket():
            return (_redispatch(state, command, emit, rules),)
        case DenyReturn():
            _status(state, TicketStatus.RETURNED)
            pending = state.pending_return
            if pending is None:
                raise Rejected("no return is pending")
            denied = ReturnDenied(
                **emit.header(), unit=pending.unit, reason=command.reason, operator=command.operator
            )
            return (denied,)
        case GrantExtension() | DenyExtension():
            return (_extension(state, command, emit, rules),)
        case RecordCallback():
            return _callback(state, command, emit, rules)
    return _after_callback(state, command, emit)


def _after_callback(state: TicketState, command: ControlCommand, emit: Emitter) -> tuple[TicketEvent, ...]:
    match command:
        case ReworkTicket():
            _status(state, TicketStatus.DISSATISFIED)
            assert state.lead is not None  # a completed ticket keeps its lead
            return (
                TicketReworked(
                    **emit.header(),
                    lead=state.lead,
                    co=state.co,
                    rework_count=state.rework_count + 1,
                    reason=command.reason,
                    operator=command.operator,
                ),
            )
        case JudgeUnreasonable():
            _status(state, TicketStatus.DISSATISFIED)
            judged = DemandJudgedUnreasonable(
                **emit.header(), reason=command.reason, operator=command.operator
            )
            return (judged, TicketClosed(**emit.header(), resolution="unreasonable", reason=command.reason))
        case DeclareConfidential():
            if state.triage.reporter_protected:
                raise Rejected("the caller is already withheld")
            return (CallerWithheld(**emit.header(), reason=command.reason, operator=command.operator),)
        case CloseTicket():
            _status(state, *CLOSABLE)
            return (TicketClosed(**emit.header(), resolution="closed_by_hotline", reason=command.reason),)
        case MergeAppeal():
            return (_merge(state, command, emit),)
        case RecordRepeatCall():
            return (_repeat(state, command, emit),)
    raise AssertionError(f"unhandled control command {command!r}")


def close_as_merged(state: TicketState, command: CloseAsMerged, emit: Emitter) -> tuple[TicketEvent, ...]:
    """The merged ticket closes into the one that took its citizen."""
    _status(state, *OPEN_STATUSES)
    return (
        TicketClosed(
            **emit.header(),
            resolution="merged",
            reason=f"并入工单 {command.into_ticket_id}",
            merged_into=command.into_ticket_id,
        ),
    )


def _status(state: TicketState, *allowed: TicketStatus) -> None:
    if state.status not in allowed:
        names = ", ".join(sorted(s.value for s in allowed))
        raise Rejected(f"ticket is {state.status.value}, not {names}")


def _check_units(lead: str, co: tuple[str, ...], rules: LifecycleRules) -> None:
    unknown = [u for u in (lead, *co) if not rules.knows_unit(u)]
    if unknown:
        raise Rejected(f"unknown units {', '.join(unknown)}")
    if lead in co or len(set(co)) != len(co):
        raise Rejected("a unit is named twice")


def _dispatch(
    state: TicketState, command: DispatchTicket, emit: Emitter, rules: LifecycleRules
) -> TicketDispatched:
    _status(state, TicketStatus.MANUAL)
    _check_units(command.lead, command.co, rules)
    category = command.category or state.category or state.triage.category
    town = command.town if command.town is not None else (state.town or state.triage.town)
    if not rules.knows_category(category) or (town is not None and not rules.knows_town(town)):
        raise Rejected(f"unknown category {category} or town {town}")
    return TicketDispatched(
        **emit.header(),
        lead=command.lead,
        co=command.co,
        category=category,
        town=town,
        urgency=state.triage.urgency,
        by="person",
        operator=command.operator,
    )


def _redispatch(
    state: TicketState, command: RedispatchTicket, emit: Emitter, rules: LifecycleRules
) -> TicketEvent:
    _status(state, *REDISPATCHABLE)
    lead = command.lead or next_candidate(state, rules)
    if lead is None:
        # The router has no one left to try: a person decides (nothing is lost).
        reason = f"改派无可选单位：{command.reason}"
        return TicketQueuedForManualDispatch(**emit.header(), reason=reason)
    holding = {state.lead, state.pending_return.unit if state.pending_return else None}
    if lead in holding:
        raise Rejected(f"unit {lead} already holds the ticket")
    co = command.co if command.co is not None else tuple(u for u in state.co if u != lead)
    _check_units(lead, co, rules)
    return TicketRedispatched(
        **emit.header(),
        lead=lead,
        co=co,
        by="person" if command.lead else "router",
        operator=command.operator,
        reason=command.reason,
    )


def _extension(
    state: TicketState, command: GrantExtension | DenyExtension, emit: Emitter, rules: LifecycleRules
) -> TicketEvent:
    pending = state.pending_extension
    if pending is None:
        raise Rejected("no extension request is pending")
    if isinstance(command, DenyExtension):
        return ExtensionDenied(
            **emit.header(),
            unit=pending.unit,
            requested=pending.extra,
            reason=command.reason,
            operator=command.operator,
        )
    granted, capped = capped_extension(command.extra or pending.extra, rules)
    return ExtensionGranted(
        **emit.header(),
        unit=pending.unit,
        requested=pending.extra,
        granted=granted,
        capped=capped,
        operator=command.operator,
    )


def _callback(
    state: TicketState, command: RecordCallback, emit: Emitter, rules: LifecycleRules
) -> tuple[TicketEvent, ...]:
    # A completed ticket is called back, and so is one answered on the line (即办).
    _status(state, TicketStatus.COMPLETED, TicketStatus.INSTANT)
    citizen = command.citizen or state.appeal.intake_key
    if citizen not in state.callback_targets:
        raise Rejected(f"{citizen} is not a citizen of this ticket")
    earlier = state.callback(citizen)
    if earlier is not None and earlier.final:
        raise Rejected(f"{citizen} has already been called back")
    attempt = (earlier.attempts if earlier else 0) + 1
    final = command.outcome != "unreachable" or attempt >= rules.callback_attempts
    recorded = CallbackRecorded(
        **emit.header(),
        citizen=citizen,
        outcome=command.outcome,
        attempt=attempt,
        final=final,
        operator=command.operator,
        note=command.note,
        solved=command.solved,
    )
    after = fold(state, recorded)
    finals = [c for c in after.callbacks if c.final]
    if state.status == TicketStatus.INSTANT and after.status == TicketStatus.DISSATISFIED:
        # The answer on the line did not solve it: no unit has it yet, so a person dispatches it.
        queued = TicketQueuedForManualDispatch(
            **emit.header(), reason=INSTANT_NOT_ENOUGH, suggestion=state.triage.suggestion
        )
        return (recorded, queued)
    if len(finals) < len(after.callback_targets) or after.status == TicketStatus.DISSATISFIED:
        return (recorded,)
    unreachable = all(c.outcome == "unreachable" for c in finals)
    outcomes = "、".join(f"{c.citizen}:{c.outcome}" for c in finals)
    closed = TicketClosed(
        **emit.header(), resolution="unreachable" if unreachable else "callback", reason=f"回访：{outcomes}"
    )
    return (recorded, closed)


def _merge(state: TicketState, command: MergeAppeal, emit: Emitter) -> AppealMerged:
    _status(state, *(OPEN_STATUSES - {TicketStatus.RECEIVED, TicketStatus.DISSATISFIED}))
    source = command.source_ticket_id
    if source == state.ticket_id or any(c.ticket_id == source for c in state.citizens):
        raise Rejected(f"ticket {source} is this ticket or already merged into it")
    appeal = command.source_appeal
    citizen = Citizen(
        intake_key=appeal.intake_key, ticket_id=source, caller=appeal.caller, received_at=appeal.received_at
    )
    if citizen.intake_key in state.callback_targets:
        raise Rejected(f"appeal {citizen.intake_key} is already on this ticket")
    return AppealMerged(
        **emit.header(),
        source_ticket_id=source,
        citizen=citizen,
        operator=command.operator,
        score=command.score,
    )


def _repeat(state: TicketState, command: RecordRepeatCall, emit: Emitter) -> RepeatCallRecorded:
    """重复来电: marked on this ticket; the caller is called back once, as this ticket's citizen."""
    _status(state, *(OPEN_STATUSES - {TicketStatus.RECEIVED}))
    source = command.source_ticket_id
    if source == state.ticket_id or source in state.repeat_calls:
        raise Rejected(f"ticket {source} is this ticket or already recorded as a repeat call")
    return RepeatCallRecorded(
        **emit.header(),
        source_ticket_id=source,
        intake_key=command.source_intake_key,
        received_at=command.source_received_at,
        operator=command.operator,
        score=command.score,
    )
