"""Work orders: what each unit receives when a ticket is dispatched to it, changed, or taken away."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.jurisdiction import Jurisdiction
from domain.privacy.masking import masked_caller, shown_address, shown_text
from domain.ticket.fold import WORKING_STATUSES, TicketState
from schemas.events import (
    ExtensionDenied,
    ExtensionGranted,
    ReturnDenied,
    Role,
    TicketClosed,
    TicketDispatched,
    TicketEvent,
    TicketQueuedForManualDispatch,
    TicketRedispatched,
    TicketReworked,
    WhistleBlown,
)
from schemas.orders import OrderKind, WorkOrder


def order_messages(
    before: TicketState | None, after: TicketState, event: TicketEvent, jurisdiction: Jurisdiction
) -> tuple[WorkOrder, ...]:
    """What the units hear of one ticket event; `before` and `after` are the ticket around it.

    `order` to a unit that now holds the ticket (or holds it in another role), `update` to
    one that keeps it, `cancel` to one that no longer does. Ids derive from the event
    (`<event_id>:<unit>`), so a resend after a crash is recognisable.
    """
    out = _Orders(event.event_id, event.occurred_at, jurisdiction)
    match event:
        case TicketDispatched():
            return tuple(out.to(after, a.unit, a.role, "order", None) for a in after.assignments)
        case TicketReworked():
            note = f"发回重办（第{event.rework_count}次）：{event.reason}"
            return tuple(out.to(after, a.unit, a.role, "order", note) for a in after.assignments)
        case TicketRedispatched():
            return _redispatched(before, after, event, out)
        case ReturnDenied():
            return (out.to(after, event.unit, "lead", "update", f"退单未获批准：{event.reason}"),)
        case ExtensionGranted():
            capped = "（按最长延期封顶）" if event.capped else ""
            return (out.to(after, event.unit, "lead", "update", f"延期已批准：延长 {event.granted}{capped}"),)
        case ExtensionDenied():
            return (out.to(after, event.unit, "lead", "update", f"延期未获批准：{event.reason}"),)
        case WhistleBlown():
            note = f"吹哨报到：{event.town} 请求到场（{event.reason}），请按时报到"
            return tuple(out.to(after, unit, "co", "whistle", note, event.whistle_id) for unit in event.units)
        case TicketQueuedForManualDispatch() | TicketClosed():
            if before is None or before.status not in WORKING_STATUSES:
                return ()  # no unit was at work on it: nothing to take back
            why = "转人工派单" if isinstance(event, TicketQueuedForManualDispatch) else event.reason
            return tuple(out.to(before, a.unit, a.role, "cancel", f"撤回：{why}") for a in before.assignments)
    return ()


def _redispatched(
    before: TicketState | None, after: TicketState, event: TicketRedispatched, out: _Orders
) -> tuple[WorkOrder, ...]:
    held = {a.unit: a.role for a in before.assignments} if before is not None else {}
    orders = [
        out.to(after, a.unit, a.role, "update", f"改派：牵头单位改为 {event.lead}")
        if held.get(a.unit) == a.role
        else out.to(after, a.unit, a.role, "order", f"改派：{event.reason}")
        for a in after.assignments
    ]
    kept = {a.unit for a in after.assignments}
    if before is not None:
        note = f"已改派至 {event.lead}：{event.reason}"
        orders += [
            out.to(before, a.unit, a.role, "cancel", note) for a in before.assignments if a.unit not in kept
        ]
    return tuple(orders)


@dataclass(frozen=True)
class _Orders:
    """Builds the records one event sends: ids `<event_id>:<unit>`."""

    event_id: str
    at: datetime
    jurisdiction: Jurisdiction

    def to(
        self,
        view: TicketState,
        unit: str,
        role: Role,
        kind: OrderKind,
        note: str | None,
        whistle_id: str | None = None,
    ) -> WorkOrder:
        order_id = f"{self.event_id}:{unit}"
        order = work_order(view, unit, role, kind, note, order_id, self.at, self.jurisdiction)
        return order.model_copy(update={"whistle_id": whistle_id}) if whistle_id else order


def work_order(
    state: TicketState,
    unit: str,
    role: Role,
    kind: OrderKind,
    note: str | None,
    order_id: str,
    at: datetime,
    jurisdiction: Jurisdiction,
) -> WorkOrder:
    """One unit's copy of the ticket: the caller masked, and for reports (举报) no caller at all."""
    appeal, triage = state.appeal, state.triage
    category_code = state.category or triage.category
    town_code = state.town if state.category is not None else triage.town
    category = jurisdiction.category_by_code.get(category_code)
    town = jurisdiction.town_by_code.get(town_code) if town_code else None
    return WorkOrder(
        order_id=order_id,
        kind=kind,
        ticket_id=state.ticket_id,
        unit=unit,
        role=role,
        lead=state.lead or next((a.unit for a in state.assignments if a.role == "lead"), ""),
        co=state.co,
        appeal_type=triage.appeal_type,
        category=category_code,
        category_name=category.name if category else category_code,
        urgency=triage.urgency,
        town=town_code,
        town_name=town.name if town else None,
        text=shown_text(state),
        address=shown_address(state),
        caller=masked_caller(appeal.caller, triage.reporter_protected),
        received_at=appeal.received_at,
        dispatched_at=at,
        note=note,
        rework_count=state.rework_count,
        deadlines=tuple(c for c in state.clocks if c.unit == unit),
    )


def open_order(state: TicketState, unit: str, jurisdiction: Jurisdiction) -> WorkOrder | None:
    """The order a unit holds now (for the HTTP API's "my open orders"); None if none.

    Its id is `<ticket_id>:<version>:<unit>`: the state it was read from.
    """
    held = state.assignment(unit)
    if held is None or state.status not in WORKING_STATUSES:
        return None
    order_id = f"{state.ticket_id}:{state.version}:{unit}"
    return work_order(state, unit, held.role, "order", held.status.value, order_id, held.since, jurisdiction)
