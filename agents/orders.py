"""Orders agent: fan dispatched tickets out to `units.<unit>.orders`, once per event."""

from __future__ import annotations

from typing import Any

from agents.ports import ReferenceData
from domain.orders import work_orders
from domain.ticket import TicketState, fold
from schemas.events import TicketDispatched
from streams.app import Streams
from streams.codecs import decode_event, encode


def install(streams: Streams, reference: ReferenceData) -> Any:
    views = streams.order_views

    @streams.app.agent(streams.events, name="fan_out_work_orders", concurrency=1)
    async def fan_out_work_orders(stream: Any) -> None:
        async for raw in stream:
            event = decode_event(raw)
            stored = views.get(event.ticket_id)
            view = TicketState.model_validate_json(stored) if stored is not None else None
            if view is not None and event.version <= view.version:
                continue  # already fanned out before a restart or rebalance
            view = fold(view, event)
            if isinstance(event, TicketDispatched):
                for order in work_orders(view, event, reference.jurisdiction):
                    topic = streams.unit_orders(order.unit)
                    await topic.send(key=order.ticket_id.encode(), value=encode(order), force=True)
            views[event.ticket_id] = encode(view)

    return fan_out_work_orders
