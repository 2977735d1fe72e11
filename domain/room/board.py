"""What the control room's wall screen shows at one instant, assembled from the room view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.jurisdiction import Jurisdiction
from domain.privacy.masking import shown_text
from domain.room.clocks import worst_mark
from domain.room.clusters import Cluster, RepeatCaller, clusters, repeat_callers
from domain.room.queues import QueueCounts, town_queues, unit_queues
from domain.room.rates import TodayRates, UnitStanding, today_rates, worst_units
from domain.room.view import RoomTicket, RoomView
from domain.ticket.fold import TicketStatus
from schemas.alerts import Alert
from schemas.limits import ClockKind

MANUAL_SHOWN = 100
ALERTS_SHOWN = 60
TEXT_SHOWN = 240


@dataclass(frozen=True)
class ManualItem:
    """A ticket waiting for a person, with what the router would do and why."""

    ticket_id: str
    version: int
    received_at: datetime
    urgency: str
    category: str
    town: str | None
    text: str
    reason: str | None
    suggested_lead: str | None
    suggested_co: tuple[str, ...]
    town_candidates: tuple[str, ...]
    explanation: tuple[str, ...]
    suggestion: tuple[str, ...]
    confidence: float


@dataclass(frozen=True)
class WhistleUnit:
    unit: str
    reported: bool
    late: bool
    due_at: datetime | None  # of its report-in limit, while it runs
    mark: str | None


@dataclass(frozen=True)
class WhistleItem:
    """A whistle some unit has yet to report in to (街乡吹哨, 部门报到)."""

    ticket_id: str
    whistle_id: str
    town: str
    reason: str
    trigger: str
    blown_at: datetime
    units: tuple[WhistleUnit, ...]


@dataclass(frozen=True)
class Board:
    at: datetime
    units: list[QueueCounts]
    towns: list[QueueCounts]
    manual: list[ManualItem]
    manual_total: int
    returned_total: int
    extensions_pending: int
    alerts: list[Alert]
    whistles: list[WhistleItem]
    clusters: list[Cluster]
    repeat_callers: list[RepeatCaller]
    rates: TodayRates
    worst_units: list[UnitStanding]
    open_total: int


def manual_item(ticket: RoomTicket, jurisdiction: Jurisdiction | None = None) -> ManualItem:
    state, triage = ticket.state, ticket.state.triage
    category = state.category or triage.category
    town = state.town or triage.town or next(iter(triage.town_candidates), None)
    lead, co = triage.suggested_lead or triage.lead, triage.suggested_co or triage.co
    explanation = triage.explanation
    known = jurisdiction is not None and category in jurisdiction.category_by_code
    route = jurisdiction.route(category, town) if jurisdiction and known and lead is None else None
    if jurisdiction and route is not None:
        # The router was not sure enough to name units: the route of its best guess is a start.
        lead, co = route.lead, route.co
        names = "、".join(jurisdiction.unit_name(u) for u in (route.lead, *route.co))
        place = jurisdiction.town_by_code[town].name if town in jurisdiction.town_by_code else "未定"
        explanation = (*explanation, f"按分类与可能属地（{place}）的派单路由建议：{names}")
    return ManualItem(
        ticket_id=state.ticket_id,
        version=state.version,
        received_at=state.received_at,
        urgency=triage.urgency,
        category=category,
        town=town,
        text=shown_text(state)[:TEXT_SHOWN],
        reason=ticket.manual_reason,
        suggested_lead=lead,
        suggested_co=co,
        town_candidates=triage.town_candidates,
        explanation=explanation,
        suggestion=triage.suggestion,
        confidence=triage.confidence,
    )


def board(view: RoomView, now: datetime, jurisdiction: Jurisdiction | None = None) -> Board:
    tickets = list(view.tickets.values())
    units = unit_queues(tickets)
    towns = town_queues(tickets)
    manual = sorted(view.in_status(TicketStatus.MANUAL), key=_manual_order)
    return Board(
        at=now,
        units=sorted(units.values(), key=lambda q: (-q.counts["overdue"], -q.total, q.key)),
        towns=sorted(towns.values(), key=lambda q: (-q.counts["overdue"], -q.total, q.key)),
        manual=[manual_item(t, jurisdiction) for t in manual[:MANUAL_SHOWN]],
        manual_total=len(manual),
        returned_total=len(view.in_status(TicketStatus.RETURNED)),
        extensions_pending=sum(1 for t in tickets if t.state.pending_extension is not None),
        alerts=list(view.alerts)[:ALERTS_SHOWN],
        whistles=whistle_board(tickets),
        clusters=clusters(tickets, now)[:20],
        repeat_callers=repeat_callers(tickets)[:20],
        rates=today_rates(tickets, view.today, view.day_start),
        worst_units=worst_units(tickets, units, view.day_start),
        open_total=sum(1 for t in tickets if t.state.is_open),
    )


def _manual_order(ticket: RoomTicket) -> tuple[int, datetime]:
    urgency = {"emergency": 0, "urgent": 1}.get(ticket.state.triage.urgency, 2)
    return urgency, ticket.state.received_at


def whistle_board(tickets: list[RoomTicket]) -> list[WhistleItem]:
    """Whistles still waiting for a unit, the oldest first."""
    found: list[WhistleItem] = []
    for ticket in tickets:
        state = ticket.state
        if not state.is_open:
            continue
        report_in = {c.unit: c for c in state.clocks if c.kind is ClockKind.REPORT_IN}
        for whistle in state.whistles:
            if not whistle.waiting:
                continue
            units = tuple(
                WhistleUnit(
                    unit=unit,
                    reported=unit in whistle.reported,
                    late=unit in whistle.late,
                    due_at=report_in[unit].due_at if unit in report_in else None,
                    mark=m.value if unit in report_in and (m := worst_mark(report_in[unit].fired)) else None,
                )
                for unit in whistle.units
            )
            found.append(
                WhistleItem(
                    ticket_id=state.ticket_id,
                    whistle_id=whistle.whistle_id,
                    town=whistle.town,
                    reason=whistle.reason,
                    trigger=whistle.trigger,
                    blown_at=whistle.blown_at,
                    units=units,
                )
            )
    return sorted(found, key=lambda w: w.blown_at)
