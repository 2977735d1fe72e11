"""Whistles (街乡吹哨, 部门报到): a town calls departments in, each must report in on time.

A whistle's state is part of the ticket: who was called, who reported in, who is late
(their report-in clock went overdue). This module holds that state, how the whistle
events change it, and the rules for automatic whistles; `domain.time_limits.decisions` applies them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from domain.jurisdiction import Jurisdiction
from schemas.events import (
    AppealMerged,
    LimitAtRisk,
    LimitOverdue,
    OrderReturned,
    TicketDispatched,
    TicketSupervised,
    UnitReportedIn,
    WhistleBlown,
    WhistleTrigger,
)
from schemas.limits import ClockKind

# Clocks whose overdue, on a ticket a town leads, calls the departments in.
_UNIT_WORK_CLOCKS = frozenset({ClockKind.SIGN, ClockKind.ON_SCENE, ClockKind.COMPLETE})
# 多人反映: this many appeals on one problem (same category and town) within the window.
CLUSTER_APPEALS = 3
CLUSTER_WINDOW = timedelta(hours=72)


class Whistle(BaseModel):
    """One whistle on a ticket: called `units`, those `reported` in, those `late`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    whistle_id: str
    town: str
    units: tuple[str, ...]
    reason: str
    trigger: WhistleTrigger
    blown_at: datetime
    reported: tuple[str, ...] = ()
    late: tuple[str, ...] = ()

    @property
    def waiting(self) -> tuple[str, ...]:
        """The units yet to report in."""
        return tuple(u for u in self.units if u not in self.reported)


TimingEvent = LimitAtRisk | LimitOverdue | TicketSupervised | WhistleBlown | UnitReportedIn


def whistle_changes(whistles: tuple[Whistle, ...], event: TimingEvent) -> dict[str, object]:
    """What a timing event changes of the ticket besides its clocks (carried on the event)."""
    match event:
        case WhistleBlown():
            blown = Whistle(
                whistle_id=event.whistle_id,
                town=event.town,
                units=event.units,
                reason=event.reason,
                trigger=event.trigger,
                blown_at=event.occurred_at,
            )
            return {"whistles": (*whistles, blown)}
        case UnitReportedIn():
            return {
                "whistles": tuple(
                    w.model_copy(update={"reported": (*w.reported, event.unit)})
                    if w.whistle_id == event.whistle_id
                    else w
                    for w in whistles
                )
            }
        case LimitOverdue() if event.kind is ClockKind.REPORT_IN and event.unit is not None:
            unit = event.unit
            return {
                "whistles": tuple(
                    w.model_copy(update={"late": (*w.late, unit)})
                    if unit in w.waiting and unit not in w.late
                    else w
                    for w in whistles
                )
            }
    return {}


def open_whistle_for(whistles: tuple[Whistle, ...], unit: str, whistle_id: str | None) -> Whistle | None:
    """The whistle `unit` reports in to: the one named, or its oldest still waiting for it."""
    for whistle in whistles:
        if unit in whistle.waiting and whistle_id in (None, whistle.whistle_id):
            return whistle
    return None


def departments(jurisdiction: Jurisdiction, category: str | None, town: str | None) -> tuple[str, ...]:
    """The departments (not towns) on a category's route in a town: whom a town calls in."""
    if category is None or category not in jurisdiction.category_by_code:
        return ()
    route = jurisdiction.route(category, town)
    if route is None:
        return ()
    towns = jurisdiction.town_by_code
    return tuple(u for u in (route.lead, *route.co) if u not in towns)


def automatic_whistle(
    event: TicketDispatched | OrderReturned | LimitOverdue | AppealMerged,
    *,
    jurisdiction: Jurisdiction,
    category: str | None,
    town: str | None,
    lead: str | None,
    whistles: tuple[Whistle, ...],
    appeals_at: tuple[datetime, ...] = (),
) -> tuple[str, tuple[str, ...], str, WhistleTrigger] | None:
    """(town, units, reason, trigger) of a whistle this event blows by itself, or None.

    - a dispatch to a category whose route has several co departments (e.g. 非法采砂洗砂);
    - a town returning its order because it lacks the power to act (无执法权);
    - an overdue sign, on-scene or complete limit on a ticket a town leads, once;
    - a cluster: the merge that brings `CLUSTER_APPEALS` appeals (`appeals_at`, when each was
      received) within `CLUSTER_WINDOW` onto one ticket with a town, once.
    """
    towns = jurisdiction.town_by_code
    match event:
        case TicketDispatched() if event.town is not None:
            called = tuple(u for u in event.co if u not in towns)
            if len(called) >= 2:
                return (
                    event.town,
                    called,
                    f"多部门协同处置：{_category_name(jurisdiction, category)}",
                    "co_units",
                )
        case OrderReturned() if event.reason_code == "lacks_power" and event.unit in towns:
            suggested = event.suggested_unit
            called = (
                (suggested,)
                if suggested and suggested not in towns
                else departments(jurisdiction, category, event.unit)
            )
            if called:
                return event.unit, called, f"属地无执法权：{event.reason}", "lacks_power"
        case LimitOverdue() if event.kind in _UNIT_WORK_CLOCKS and lead in towns and lead is not None:
            called = _called_once(whistles, "overdue", jurisdiction, category, town)
            if called:
                return lead, called, f"属地牵头工单超期（{event.kind.value}）", "overdue"
        case AppealMerged() if town is not None and _clustered(appeals_at):
            called = _called_once(whistles, "cluster", jurisdiction, category, town)
            if called:
                reason = f"多人反映：{len(appeals_at)} 件同类诉求（{_category_name(jurisdiction, category)}）"
                return town, called, reason, "cluster"
    return None


def _called_once(
    whistles: tuple[Whistle, ...],
    trigger: WhistleTrigger,
    jurisdiction: Jurisdiction,
    category: str | None,
    town: str | None,
) -> tuple[str, ...]:
    """The departments a whistle blown once per ticket calls in; none once one of its kind was blown."""
    if any(w.trigger == trigger for w in whistles):
        return ()
    return departments(jurisdiction, category, town)


def _clustered(appeals_at: tuple[datetime, ...]) -> bool:
    """Whether some `CLUSTER_APPEALS` of the appeals fall within `CLUSTER_WINDOW`."""
    ordered = sorted(appeals_at)
    n = CLUSTER_APPEALS
    return any(ordered[i + n - 1] - ordered[i] <= CLUSTER_WINDOW for i in range(len(ordered) - n + 1))


def _category_name(jurisdiction: Jurisdiction, category: str | None) -> str:
    found = jurisdiction.category_by_code.get(category or "")
    return found.name if found else (category or "")
