"""Work orders: what each unit receives when a ticket is dispatched to it."""

from __future__ import annotations

from domain.jurisdiction import Jurisdiction
from domain.privacy import masked_caller, scrub_phone_numbers
from domain.ticket import TicketState
from schemas.events import TicketDispatched
from schemas.orders import WorkOrder


def work_orders(
    state: TicketState, event: TicketDispatched, jurisdiction: Jurisdiction
) -> tuple[WorkOrder, ...]:
    """One order for the lead and one per co unit; ids derive from the event so resends are recognisable."""
    appeal, triage = state.appeal, state.triage
    category = jurisdiction.category_by_code.get(event.category)
    town = jurisdiction.town_by_code.get(event.town) if event.town else None
    is_report = triage.appeal_type == "report"
    roles = [(event.lead, "lead"), *((unit, "co") for unit in event.co)]
    return tuple(
        WorkOrder(
            order_id=f"{event.event_id}:{unit}",
            ticket_id=state.ticket_id,
            unit=unit,
            role=role,
            lead=event.lead,
            co=event.co,
            appeal_type=triage.appeal_type,
            category=event.category,
            category_name=category.name if category else event.category,
            urgency=event.urgency,
            town=event.town,
            town_name=town.name if town else None,
            text=scrub_phone_numbers(appeal.text),
            address=appeal.address,
            caller=masked_caller(appeal.caller, triage.appeal_type) if not is_report else None,
            received_at=appeal.received_at,
            dispatched_at=event.occurred_at,
        )
        for unit, role in roles
    )
