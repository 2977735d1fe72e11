"""The running clocks of a ticket: when each time limit warns, falls due and escalates.

Every clock is computed once, when it starts (or is extended), from the
jurisdiction's `time_limits` on its `WorkingCalendar`; the timers then only
compare instants. Three marks per clock, each due once `now` reaches it:

- at_risk (预警) at `warn_at`: `warn_at` share of the limit, measured in the
  limit's own time: working time for `wd`/`wh`, elapsed time for `h`/`min`;
- overdue (超期) at `due_at`, the limit;
- supervise (督办) at `escalate_at`: `escalate_after_overdue` after `due_at`, on
  the working calendar.

Pure functions: `now` and the calendar are arguments, nothing reads a clock.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict

from domain.jurisdiction import Duration, DurationUnit, Jurisdiction, TownKind, Urgency
from domain.time_limits.workdays import WorkingCalendar
from schemas.limits import Clock, ClockKind, Mark

__all__ = [
    "Clock",
    "ClockKind",
    "Extension",
    "Mark",
    "callback_clock",
    "dispatch_clocks",
    "due_marks",
    "extend",
    "next_mark_at",
    "report_in_clock",
    "rework_clock",
    "start_clock",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Extension(_Frozen):
    """A granted extension: the extended clock and how much was asked and given.

    `capped` says the request exceeded `extension_max` and `granted` is that maximum.
    """

    clock: Clock
    requested: str
    granted: str
    capped: bool


def start_clock(
    kind: ClockKind,
    unit: str | None,
    started_at: datetime,
    limit: Duration,
    *,
    jurisdiction: Jurisdiction,
    calendar: WorkingCalendar,
) -> Clock:
    """A clock of `limit` starting at `started_at`, with its warn and escalation instants."""
    started = started_at.astimezone(UTC)
    due = calendar.add(started, limit)
    return Clock(
        kind=kind,
        unit=unit,
        started_at=started,
        due_at=due,
        warn_at=_warn_at(started, due, limit, jurisdiction, calendar),
        escalate_at=calendar.add(due, jurisdiction.time_limits.escalate_after_overdue),
        limit=str(limit),
    )


def dispatch_clocks(
    urgency: Urgency,
    town_kind: TownKind | None,
    dispatched_at: datetime,
    unit: str,
    *,
    jurisdiction: Jurisdiction,
    calendar: WorkingCalendar,
) -> tuple[Clock, ...]:
    """The clocks a dispatch to the lead `unit` starts: sign, on-scene where the urgency has one, complete.

    An on-scene limit varies by town kind; with no town known the shorter one
    applies, as the unit cannot know which the hotline would have picked.
    """
    limits = jurisdiction.time_limits.for_urgency(urgency)

    def start(kind: ClockKind, limit: Duration) -> Clock:
        return start_clock(kind, unit, dispatched_at, limit, jurisdiction=jurisdiction, calendar=calendar)

    clocks = [start(ClockKind.SIGN, limits.sign)]
    if limits.on_scene is not None:
        kinds: tuple[TownKind, ...] = (town_kind,) if town_kind is not None else ("urban", "rural")
        on_scene = [limits.on_scene.for_kind(kind) for kind in kinds]
        shortest = min(on_scene, key=lambda limit: calendar.add(dispatched_at, limit))
        clocks.append(start(ClockKind.ON_SCENE, shortest))
    clocks.append(start(ClockKind.COMPLETE, limits.complete))
    return tuple(clocks)


def rework_clock(
    reworked_at: datetime, unit: str, *, jurisdiction: Jurisdiction, calendar: WorkingCalendar
) -> Clock:
    """The completion clock of a ticket sent back for rework (发回重办): the `rework` limit."""
    limit = jurisdiction.time_limits.rework
    return start_clock(
        ClockKind.COMPLETE, unit, reworked_at, limit, jurisdiction=jurisdiction, calendar=calendar
    )


def callback_clock(completed_at: datetime, *, jurisdiction: Jurisdiction, calendar: WorkingCalendar) -> Clock:
    """The hotline's clock to call the citizen back (回访) after a completion; it has no unit."""
    limit = jurisdiction.time_limits.callback
    return start_clock(
        ClockKind.CALLBACK, None, completed_at, limit, jurisdiction=jurisdiction, calendar=calendar
    )


def report_in_clock(
    unit: str,
    urgency: Urgency,
    town_kind: TownKind,
    whistled_at: datetime,
    *,
    jurisdiction: Jurisdiction,
    calendar: WorkingCalendar,
) -> Clock:
    """The clock for a whistled `unit` to report in (报到) to the town that blew the whistle.

    Urgent and emergency tickets use the urgent limit for the town's kind
    (calendar minutes); normal tickets the normal one (working time).
    """
    limits = jurisdiction.time_limits.whistle_report
    limit = limits.normal if urgency == "normal" else limits.urgent.for_kind(town_kind)
    return start_clock(
        ClockKind.REPORT_IN, unit, whistled_at, limit, jurisdiction=jurisdiction, calendar=calendar
    )


def extend(
    clock: Clock, extra: Duration, *, jurisdiction: Jurisdiction, calendar: WorkingCalendar
) -> Extension:
    """Extend a clock's limit by `extra` (延期), capped at the jurisdiction's `extension_max`.

    The extension runs on from the current `due_at`. A request that would end
    later than `extension_max` from there is granted `extension_max` and reported
    as capped, not refused: the hotline has already approved the extension, and
    the cap is the jurisdiction's rule, so the clock takes the most it allows.
    Warn and escalation instants are recomputed for the longer limit.
    """
    maximum = jurisdiction.time_limits.extension_max
    requested_due = calendar.add(clock.due_at, extra)
    capped_due = calendar.add(clock.due_at, maximum)
    capped = requested_due > capped_due
    granted = maximum if capped else extra
    due = capped_due if capped else requested_due
    limit = Duration.parse(clock.limit)
    # Built anew rather than model_copy'd, which would skip the check on the marks' order.
    extended = Clock(
        kind=clock.kind,
        unit=clock.unit,
        started_at=clock.started_at,
        due_at=due,
        warn_at=_warn_at(clock.started_at, due, limit, jurisdiction, calendar),
        escalate_at=calendar.add(due, jurisdiction.time_limits.escalate_after_overdue),
        limit=clock.limit,
        extensions=(*clock.extensions, str(granted)),
    )
    return Extension(
        clock=extended,
        requested=str(extra),
        granted=str(granted),
        capped=capped,
    )


def due_marks(clock: Clock, now: datetime) -> tuple[Mark, ...]:
    """The marks of `clock` due at `now`, in order: each once `now` has reached its instant."""
    return tuple(mark for mark in Mark if clock.mark_at(mark) <= now)


def next_mark_at(clock: Clock, now: datetime) -> datetime | None:
    """When the next mark of `clock` after `now` falls due, for scheduling a timer; None if none is left."""
    later = [clock.mark_at(mark) for mark in Mark if clock.mark_at(mark) > now]
    return min(later, default=None)


def _warn_at(
    started: datetime, due: datetime, limit: Duration, jurisdiction: Jurisdiction, calendar: WorkingCalendar
) -> datetime:
    # The share is taken of the span from start to due in the limit's own time, so an
    # extended clock warns at the same share of its longer limit.
    share = jurisdiction.time_limits.warn_at
    if limit.is_working_time:
        working_hours = calendar.working_seconds_between(started, due) / 3600 * share
        return calendar.add(started, Duration(amount=working_hours, unit=DurationUnit.WORKING_HOUR))
    return started + (due - started) * share
