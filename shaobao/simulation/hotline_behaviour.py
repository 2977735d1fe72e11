"""How the simulated hotline follows up its tickets: callbacks (回访), rework, and the control
room's decisions on returns, extensions and the manual queue.

Pure: `next_moves(state, speed)` says which commands the hotline will send for a ticket in
this state, and when. Every command's id names the ticket and the step it answers (the
citizen and the attempt, the version decided on), and its randomness is drawn from a
`random.Random` seeded with that id and the simulator's seed: deciding the same state again,
after a restart, gives the same commands, which the ticket agent recognises.

Satisfaction shares follow what hotlines publish: about 85% satisfied or basically
satisfied, under 10% dissatisfied (then reworked, or, after repeated rework, judged by the
supervisor), a few citizens unreachable on a try, some on every try.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from random import Random

from domain.ticket.fold import TicketState, TicketStatus
from schemas.commands import (
    CallbackOutcome,
    DenyExtension,
    DenyReturn,
    DispatchTicket,
    GrantExtension,
    JudgeUnreasonable,
    RecordCallback,
    RedispatchTicket,
    ReworkTicket,
    TicketCommand,
)

OPERATOR = "回访坐席（模拟）"
SUPERVISOR = "督办科（模拟）"
Span = tuple[float, float]
CALLBACK_S: Span = (15.0, 60.0)
RETRY_S: Span = (10.0, 30.0)
DECIDE_S: Span = (5.0, 20.0)


@dataclass(frozen=True)
class Shares:
    """Outcome shares of a callback that reaches the citizen, and the hotline's habits."""

    satisfied: float = 0.62
    basically_satisfied: float = 0.23
    no_comment: float = 0.06
    dissatisfied: float = 0.09
    dissatisfied_after_rework: float = 0.04
    unreachable_first_try: float = 0.08
    unreachable_again: float = 0.5
    grants_extension: float = 0.8
    redispatches_return: float = 0.8
    max_rework: int = 2  # dissatisfied after this many reworks: the supervisor judges it


SHARES = Shares()
RngFor = Callable[[str], Random]


@dataclass(frozen=True)
class Move:
    """A command the hotline sends at `at` (or at once, when that has passed)."""

    at: datetime
    command: TicketCommand


def next_moves(
    state: TicketState, rng_for: RngFor, speed: float = 1.0, shares: Shares = SHARES
) -> tuple[Move, ...]:
    """The hotline's next commands for a ticket in `state`; none while units are at work."""
    pace = 1.0 / max(speed, 1e-6)

    def later(rng: Random, span: Span) -> datetime:
        return state.updated_at + timedelta(seconds=rng.uniform(*span) * pace)

    if state.status in (TicketStatus.COMPLETED, TicketStatus.INSTANT):
        return tuple(_callback(state, citizen, rng_for, later, shares) for citizen in _uncalled(state))
    if state.status == TicketStatus.DISSATISFIED:
        return (_after_dissatisfied(state, rng_for, later, shares),)
    if state.status == TicketStatus.RETURNED and state.pending_return is not None:
        return (_on_return(state, rng_for, later, shares),)
    if state.pending_extension is not None and state.status == TicketStatus.SIGNED:
        return (_on_extension(state, rng_for, later, shares),)
    suggested = state.triage.suggested_lead
    if state.status == TicketStatus.MANUAL and suggested is not None and suggested not in state.returned_by:
        return (_dispatch_suggested(state, rng_for, later),)
    return ()


def _header(
    state: TicketState, command_id: str, at: datetime, role: str = "control_room"
) -> dict[str, object]:
    return {
        "command_id": command_id,
        "ticket_id": state.ticket_id,
        "issued_at": at,
        "operator": SUPERVISOR if role == "supervisor" else OPERATOR,
        "role": role,
    }


def _uncalled(state: TicketState) -> tuple[str, ...]:
    """Every citizen of the ticket (its caller and those merged into it) not finally called back."""
    return tuple(c for c in state.callback_targets if not ((done := state.callback(c)) and done.final))


def _callback(
    state: TicketState,
    citizen: str,
    rng_for: RngFor,
    later: Callable[[Random, Span], datetime],
    shares: Shares,
) -> Move:
    earlier = state.callback(citizen)
    attempt = (earlier.attempts if earlier else 0) + 1
    command_id = f"hotline:{state.ticket_id}:r{state.rework_count}:callback:{citizen}:{attempt}"
    rng = rng_for(command_id)
    at = later(rng, CALLBACK_S if attempt == 1 else RETRY_S)
    outcome = _outcome(rng, attempt, state.rework_count, shares)
    note = {"unreachable": "电话无人接听", "dissatisfied": "来电人表示问题仍未解决"}.get(outcome, "")
    own = citizen == state.appeal.intake_key
    command = RecordCallback.model_validate(
        _header(state, command_id, at)
        | {"citizen": None if own else citizen, "outcome": outcome, "note": note}
    )
    return Move(at=at, command=command)


def _outcome(rng: Random, attempt: int, rework_count: int, shares: Shares) -> CallbackOutcome:
    unreachable = shares.unreachable_first_try if attempt == 1 else shares.unreachable_again
    if rng.random() < unreachable:
        return "unreachable"
    dissatisfied = shares.dissatisfied_after_rework if rework_count else shares.dissatisfied
    draw = rng.random() * (shares.satisfied + shares.basically_satisfied + shares.no_comment + dissatisfied)
    reached: tuple[tuple[CallbackOutcome, float], ...] = (
        ("satisfied", shares.satisfied),
        ("basically_satisfied", shares.basically_satisfied),
        ("no_comment", shares.no_comment),
    )
    for outcome, share in reached:
        if draw < share:
            return outcome
        draw -= share
    return "dissatisfied"


def _after_dissatisfied(
    state: TicketState, rng_for: RngFor, later: Callable[[Random, Span], datetime], shares: Shares
) -> Move:
    command_id = f"hotline:{state.ticket_id}:r{state.rework_count}:dissatisfied"
    rng = rng_for(command_id)
    at = later(rng, DECIDE_S)
    if state.rework_count >= shares.max_rework:
        reason = f"已{state.rework_count}次发回重办，诉求超出政策范围，经督办科研判为不合理诉求。"
        judged = JudgeUnreasonable.model_validate(
            _header(state, command_id, at, "supervisor") | {"reason": reason}
        )
        return Move(at=at, command=judged)
    reason = "回访不满意：来电人反映问题仍未解决，发回重办。"
    return Move(
        at=at, command=ReworkTicket.model_validate(_header(state, command_id, at) | {"reason": reason})
    )


def _on_return(
    state: TicketState, rng_for: RngFor, later: Callable[[Random, Span], datetime], shares: Shares
) -> Move:
    """The decision on a unit's return. Its id (and the choice drawn from it) names the request
    by the unit and how often it has returned this ticket, not by all the ticket's returns: a co
    unit returning its part meanwhile must not make the hotline decide the same request twice
    (it may have sent the first decision before reading that return; the second is rejected).
    """
    unit = state.pending_return.unit if state.pending_return is not None else ""
    command_id = f"hotline:{state.ticket_id}:return:{unit}:{state.returned_by.count(unit)}"
    rng = rng_for(command_id)
    at = later(rng, DECIDE_S)
    if rng.random() < shares.redispatches_return:
        redispatch = RedispatchTicket.model_validate(
            _header(state, command_id, at) | {"reason": "按退单理由改派"}
        )
        return Move(at=at, command=redispatch)
    deny = DenyReturn.model_validate(
        _header(state, command_id, at) | {"reason": "经核实属本单位职责，请继续办理"}
    )
    return Move(at=at, command=deny)


def _on_extension(
    state: TicketState, rng_for: RngFor, later: Callable[[Random, Span], datetime], shares: Shares
) -> Move:
    """The decision on a lead's extension request, named as a return's is (see `_on_return`)."""
    # One request per lead and round: the simulated lead asks at most once before completing.
    unit = state.pending_extension.unit if state.pending_extension is not None else ""
    command_id = (
        f"hotline:{state.ticket_id}:r{state.rework_count}:extension:{unit}:{state.returned_by.count(unit)}"
    )
    rng = rng_for(command_id)
    at = later(rng, DECIDE_S)
    if rng.random() < shares.grants_extension:
        return Move(at=at, command=GrantExtension.model_validate(_header(state, command_id, at)))
    deny = DenyExtension.model_validate(_header(state, command_id, at) | {"reason": "可在原时限内办结"})
    return Move(at=at, command=deny)


def _dispatch_suggested(
    state: TicketState, rng_for: RngFor, later: Callable[[Random, Span], datetime]
) -> Move:
    command_id = f"hotline:{state.ticket_id}:dispatch{len(state.returned_by)}"
    at = later(rng_for(command_id), DECIDE_S)
    triage = state.triage
    fields = {
        "lead": triage.suggested_lead,
        "co": tuple(u for u in triage.suggested_co if u != triage.suggested_lead),
    }
    return Move(at=at, command=DispatchTicket.model_validate(_header(state, command_id, at) | fields))
