"""The jurisdiction's rules the lifecycle applies: extension cap, callback tries, known codes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from domain.jurisdiction import Duration, DurationUnit, Jurisdiction
from domain.ticket.fold import TicketState

if TYPE_CHECKING:
    from domain.time_limits.clock_changes import LimitPolicy

DEFAULT_CALLBACK_ATTEMPTS = 3


@dataclass(frozen=True)
class LifecycleRules:
    """What decisions need from the jurisdiction. Empty code sets accept any code (unit tests)."""

    extension_max: Duration = field(default_factory=lambda: Duration(amount=5, unit=DurationUnit.WORKING_DAY))
    working_hours_per_day: float = 7.0
    callback_attempts: int = DEFAULT_CALLBACK_ATTEMPTS
    units: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    towns: frozenset[str] = frozenset()
    # The time limits on the working calendar; None (unit tests of the lifecycle): no clocks.
    limits: LimitPolicy | None = None

    def knows_unit(self, code: str) -> bool:
        return not self.units or code in self.units

    def knows_category(self, code: str) -> bool:
        return not self.categories or code in self.categories

    def knows_town(self, code: str) -> bool:
        return not self.towns or code in self.towns


DEFAULT_RULES = LifecycleRules()


def rules_for(
    jurisdiction: Jurisdiction, callback_attempts: int = DEFAULT_CALLBACK_ATTEMPTS
) -> LifecycleRules:
    """The rules of one jurisdiction file."""
    hours = sum(_hours_between(p.start, p.end) for p in jurisdiction.calendar.working_hours)
    return LifecycleRules(
        extension_max=jurisdiction.time_limits.extension_max,
        working_hours_per_day=hours,
        callback_attempts=callback_attempts,
        units=frozenset(jurisdiction.unit_codes),
        categories=frozenset(jurisdiction.category_by_code),
        towns=frozenset(jurisdiction.town_by_code),
    )


def _hours_between(start: str, end: str) -> float:
    (h1, m1), (h2, m2) = (map(int, start.split(":")), map(int, end.split(":")))
    return (h2 * 60 + m2 - h1 * 60 - m1) / 60


def capped_extension(extra: str, rules: LifecycleRules) -> tuple[str, bool]:
    """The extension granted for `extra`: at most `extension_max`; True when that cut it.

    Compared in hours (a working day counts its working hours). An extension in calendar
    hours is compared as if working hours: the timers (domain.time_limits.clocks.extend_clock) later
    compute the exact new due instant on the working calendar, with the same cap.
    """
    asked, cap = Duration.parse(extra), rules.extension_max
    if _hours(asked, rules) > _hours(cap, rules):
        return str(cap), True
    return str(asked), False


def _hours(duration: Duration, rules: LifecycleRules) -> float:
    if duration.unit == DurationUnit.WORKING_DAY:
        return duration.amount * rules.working_hours_per_day
    if duration.unit == DurationUnit.MINUTE:
        return duration.amount / 60
    return duration.amount


def next_candidate(state: TicketState, rules: LifecycleRules) -> str | None:
    """The router's next candidate lead: the unit a returning unit named, then the route's units
    in order (lead, co), then the router's own suggestion; never a unit that returned it."""
    pending = state.pending_return
    triage = state.triage
    pool = (
        pending.suggested_unit if pending else None,
        triage.lead,
        *state.co,
        *triage.co,
        triage.suggested_lead,
        *triage.suggested_co,
    )
    excluded = {*state.returned_by, state.lead, pending.unit if pending else None}
    for unit in pool:
        if unit is not None and unit not in excluded and rules.knows_unit(unit):
            return unit
    return None
