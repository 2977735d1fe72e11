"""Which clocks a ticket runs after each event: started, stopped, extended or marked.

`clocks_after` is the one place that decides it. The ticket agent sets the result on the
event that changed the clocks (`clocks`), so folding the log gives every consumer, the
timers, the orders agent and PostgreSQL, the same clocks without the calendar.

- dispatch, redispatch: sign, on-scene (emergencies, by the town's kind) and complete for
  the lead, anew; rework (发回重办): sign and the rework limit;
- the lead signs: sign stops; the lead's first progress note: on-scene stops (it is there);
- extension granted: complete runs on for what was granted (capped, `domain.time_limits.clocks.extend`);
- completion: the units' clocks stop, the hotline's callback clock starts; it stops when
  the callback ends (closed, or dissatisfied);
- a ticket queued for a person: the units' clocks stop (nobody holds it);
- a whistle: a report-in clock per called unit; its report-in stops it;
- a mark reached: recorded on the clock (`fired`), so it never fires twice;
- a closed ticket runs no clock.
A clock set anew carries the event's version: the limit version of the timers' command ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.jurisdiction import Duration, Jurisdiction, TownKind
from domain.ticket.fold import TicketState, TicketStatus
from domain.time_limits.clocks import (
    Clock,
    ClockKind,
    callback_clock,
    dispatch_clocks,
    extend,
    report_in_clock,
    rework_clock,
)
from domain.time_limits.workdays import WorkingCalendar
from schemas.events import (
    CallbackRecorded,
    ExtensionGranted,
    LimitAtRisk,
    LimitOverdue,
    OrderSigned,
    ProgressNoted,
    TicketCompleted,
    TicketDispatched,
    TicketEvent,
    TicketQueuedForManualDispatch,
    TicketRedispatched,
    TicketReworked,
    TicketSupervised,
    UnitReportedIn,
    WhistleBlown,
)
from schemas.limits import Mark

_UNIT_WORK = frozenset({ClockKind.SIGN, ClockKind.ON_SCENE, ClockKind.COMPLETE})
_MARK_OF = {LimitAtRisk: Mark.AT_RISK, LimitOverdue: Mark.OVERDUE, TicketSupervised: Mark.SUPERVISE}


@dataclass(frozen=True)
class LimitPolicy:
    """The jurisdiction's time limits on its working calendar: what the clocks need."""

    jurisdiction: Jurisdiction
    calendar: WorkingCalendar

    def town_kind(self, town: str | None) -> TownKind | None:
        found = self.jurisdiction.town_by_code.get(town or "")
        return found.kind if found else None


def clocks_after(
    before: TicketState, after: TicketState, event: TicketEvent, policy: LimitPolicy
) -> tuple[Clock, ...]:
    """The ticket's clocks after `event` (folded from `before` into `after`); see the module doc."""
    if not after.is_open:
        return ()
    clocks = before.clocks
    at, version = event.occurred_at, event.version
    match event:
        case TicketDispatched() | TicketRedispatched():
            started = dispatch_clocks(
                after.triage.urgency,
                policy.town_kind(after.town),
                at,
                event.lead,
                jurisdiction=policy.jurisdiction,
                calendar=policy.calendar,
            )
            return (*_without(clocks, *_UNIT_WORK, ClockKind.CALLBACK), *_versioned(started, version))
        case TicketReworked():
            j, cal = policy.jurisdiction, policy.calendar
            kind = policy.town_kind(after.town)
            sign = dispatch_clocks(after.triage.urgency, kind, at, event.lead, jurisdiction=j, calendar=cal)[
                0
            ]
            started = (sign, rework_clock(at, event.lead, jurisdiction=j, calendar=cal))
            return (*_without(clocks, *_UNIT_WORK, ClockKind.CALLBACK), *_versioned(started, version))
        case OrderSigned() if event.role == "lead":
            return _without(clocks, ClockKind.SIGN)
        case ProgressNoted() if event.role == "lead":
            return _without(clocks, ClockKind.ON_SCENE)
        case ExtensionGranted():
            return tuple(_extended(c, event.granted, version, policy) for c in clocks)
        case TicketCompleted():
            callback = callback_clock(at, jurisdiction=policy.jurisdiction, calendar=policy.calendar)
            return (*_without(clocks, *_UNIT_WORK, ClockKind.CALLBACK), *_versioned((callback,), version))
        case CallbackRecorded() if after.status != TicketStatus.COMPLETED:
            return _without(clocks, ClockKind.CALLBACK)
        case TicketQueuedForManualDispatch():
            return _without(clocks, *_UNIT_WORK)
    return _timing_clocks(clocks, after, event, policy)


def _timing_clocks(
    clocks: tuple[Clock, ...], after: TicketState, event: TicketEvent, policy: LimitPolicy
) -> tuple[Clock, ...]:
    match event:
        case WhistleBlown():
            kind = policy.town_kind(event.town) or "urban"
            called = tuple(
                report_in_clock(
                    unit,
                    after.triage.urgency,
                    kind,
                    event.occurred_at,
                    jurisdiction=policy.jurisdiction,
                    calendar=policy.calendar,
                )
                for unit in event.units
            )
            replaced = {c.key for c in called}
            kept = tuple(c for c in clocks if c.key not in replaced)
            return (*kept, *_versioned(called, event.version))
        case UnitReportedIn():
            return tuple(c for c in clocks if not (c.kind is ClockKind.REPORT_IN and c.unit == event.unit))
        case LimitAtRisk() | LimitOverdue() | TicketSupervised():
            mark = _MARK_OF[type(event)]
            return tuple(
                c.model_copy(update={"fired": (*c.fired, mark)})
                if c.key == event.clock and c.version == event.limit_version and mark not in c.fired
                else c
                for c in clocks
            )
    return clocks


def _without(clocks: tuple[Clock, ...], *kinds: ClockKind) -> tuple[Clock, ...]:
    return tuple(c for c in clocks if c.kind not in kinds)


def _versioned(clocks: tuple[Clock, ...], version: int) -> tuple[Clock, ...]:
    return tuple(c.model_copy(update={"version": version, "fired": ()}) for c in clocks)


def _extended(clock: Clock, granted: str, version: int, policy: LimitPolicy) -> Clock:
    if clock.kind is not ClockKind.COMPLETE:
        return clock
    longer = extend(
        clock, Duration.parse(granted), jurisdiction=policy.jurisdiction, calendar=policy.calendar
    )
    return longer.clock.model_copy(update={"version": version, "fired": ()})
