"""Orders agent: tell units of the tickets they get, keep and lose on `units.<unit>.orders`,
once per event."""

from __future__ import annotations

from typing import Any

from agents.ports import ReferenceData
from domain.orders import order_messages
from domain.ticket import TicketState, fold
from streams.app import Streams
from streams.codecs import decode_event, encode


def install(streams: Streams, reference: ReferenceData) -> Any:
    views = streams.order_views

    @streams.app.agent(streams.events, name="fan_out_work_orders", concurrency=1)
    async def fan_out_work_orders(stream: Any) -> None:
        async for raw in stream:
            event = decode_event(raw)
            stored = views.get(event.ticket_id)
            before = TicketState.model_validate_json(stored) if stored is not None else None
            if before is not None and event.version <= before.version:
                continue  # already fanned out before a restart or rebalance
            after = fold(before, event)
            for order in order_messages(before, after, event, reference.jurisdiction):
                topic = streams.unit_orders(order.unit)
                await topic.send(key=order.ticket_id.encode(), value=encode(order), force=True)
            views[event.ticket_id] = encode(after)

    return fan_out_work_orders
