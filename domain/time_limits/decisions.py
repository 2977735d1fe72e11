"""Time limits and whistles in the ticket agent's decisions.

- `handle_timing_command`: the timers' `FlagLimit` (a clock reached a mark), a town's
  `BlowWhistle`, a unit's `ReportIn`;
- `with_timing`: after any command's events, the automatic whistles they call for, and
  each event's clocks (`domain.time_limits.clock_changes`).
Pure: the instant is the emitter's `now`.
"""

from __future__ import annotations

from domain.ticket.fold import WORKING_STATUSES, TicketState, fold
from domain.ticket.lifecycle.emit import Emitter, Rejected, forbidden
from domain.time_limits.clock_changes import LimitPolicy, clocks_after
from domain.time_limits.whistles import automatic_whistle, open_whistle_for
from schemas.commands import BlowWhistle, FlagLimit, ReportIn
from schemas.events import (
    AppealMerged,
    LimitAtRisk,
    LimitOverdue,
    OrderReturned,
    TicketDispatched,
    TicketEvent,
    TicketSupervised,
    UnitReportedIn,
    WhistleBlown,
    WhistleTrigger,
)
from schemas.limits import Mark

TimingCommand = FlagLimit | BlowWhistle | ReportIn
TIMING_COMMANDS = (FlagLimit, BlowWhistle, ReportIn)
_EVENT_OF: dict[Mark, type[LimitAtRisk | LimitOverdue | TicketSupervised]] = {
    Mark.AT_RISK: LimitAtRisk,
    Mark.OVERDUE: LimitOverdue,
    Mark.SUPERVISE: TicketSupervised,
}


def flag_command_id(ticket_id: str, clock: str, mark: Mark, limit_version: int) -> str:
    """The timers' command id for one mark of one version of a clock: the same on every resend."""
    return f"{ticket_id}:{clock}:{mark.value}:{limit_version}"


def handle_timing_command(
    state: TicketState, command: TimingCommand, emit: Emitter, policy: LimitPolicy | None
) -> tuple[TicketEvent, ...]:
    match command:
        case FlagLimit():
            return _flag(state, command, emit)
        case BlowWhistle():
            return (_whistle(state, command, emit, policy),)
        case ReportIn():
            whistle = open_whistle_for(state.whistles, command.unit, command.whistle_id)
            if whistle is None:
                if any(command.unit in w.units for w in state.whistles):
                    raise Rejected(f"unit {command.unit} has already reported in")
                raise forbidden(f"ticket is not assigned to unit {command.unit}")  # no whistle calls it
            return (
                UnitReportedIn(
                    **emit.header(), whistle_id=whistle.whistle_id, unit=command.unit, note=command.note
                ),
            )
    raise AssertionError(f"unhandled timing command {command!r}")


def _flag(state: TicketState, command: FlagLimit, emit: Emitter) -> tuple[TicketEvent, ...]:
    # A mark for a clock that stopped or changed since the timer read it, or one already
    # recorded (a resend after a restart), changes nothing: no event, no rejection.
    clock = next(
        (c for c in state.clocks if c.key == command.clock and c.version == command.limit_version), None
    )
    if clock is None or command.mark in clock.fired:
        return ()
    marked: TicketEvent = _EVENT_OF[command.mark](
        **emit.header(),
        clock=clock.key,
        kind=clock.kind,
        unit=clock.unit,
        limit_version=clock.version,
        due_at=clock.due_at,
        mark_at=clock.mark_at(command.mark),
    )
    return (marked,)


def _whistle(
    state: TicketState, command: BlowWhistle, emit: Emitter, policy: LimitPolicy | None
) -> TicketEvent:
    towns = policy.jurisdiction.town_by_code if policy is not None else {}
    town = command.unit
    if policy is not None and town not in towns:
        raise forbidden(f"unit {town} is not a town: only a town blows the whistle")
    if state.assignment(town) is None and state.town != town:
        raise forbidden(f"ticket is not assigned to unit {town}")
    if state.status not in WORKING_STATUSES:
        raise Rejected(f"ticket is {state.status.value}: a whistle is blown while it is worked on")
    known = policy.jurisdiction.unit_codes if policy is not None else command.units
    unknown = [u for u in command.units if u not in known or u == town]
    if unknown or len(set(command.units)) != len(command.units):
        raise Rejected(
            f"whistle names unknown, repeated or its own units: {', '.join(unknown) or 'repeated'}"
        )
    return _blown(state, emit, town, command.units, command.reason, "town")


def _blown(
    state: TicketState, emit: Emitter, town: str, units: tuple[str, ...], reason: str, trigger: WhistleTrigger
) -> WhistleBlown:
    whistle_id = f"{state.ticket_id}:w{len(state.whistles) + 1}"
    return WhistleBlown(
        **emit.header(), whistle_id=whistle_id, town=town, units=units, reason=reason, trigger=trigger
    )


def with_timing(
    state: TicketState | None, events: tuple[TicketEvent, ...], emit: Emitter, policy: LimitPolicy
) -> tuple[TicketEvent, ...]:
    """The events with the automatic whistles they call for appended, and each with its clocks.

    Folds as it goes, so each event's clocks start from the state it follows, and a whistle
    is numbered (and folded) after the command's own events.
    """
    out: list[TicketEvent] = []
    pending = list(events)
    current = state
    while pending:
        event = pending.pop(0)
        after = fold(current, event)
        if current is not None:
            clocks = clocks_after(current, after, event, policy)
            if clocks != current.clocks:
                event = event.model_copy(update={"clocks": clocks})
                after = after.model_copy(update={"clocks": clocks})
        out.append(event)
        if isinstance(event, TicketDispatched | OrderReturned | LimitOverdue | AppealMerged):
            called = automatic_whistle(
                event,
                jurisdiction=policy.jurisdiction,
                category=after.category,
                town=after.town,
                lead=after.lead,
                whistles=after.whistles,
                appeals_at=(after.appeal.received_at, *(c.received_at for c in after.citizens)),
            )
            if called is not None:
                # Numbered after every event so far: appended, so versions stay in order.
                pending.append(_blown(after, emit, *called))
        current = after
    return tuple(out)
