"""Orders agent: tell units of the tickets they get, keep and lose on `units.<unit>.orders`,
once per event."""

from __future__ import annotations

from typing import Any

from agents.boundary import Record, boundary_for
from agents.outbox import TAKE, WITHIN_S, Outbox, Staged
from agents.ports import ReferenceData, TimeSource
from domain.ticket.fold import TicketState, fold
from domain.ticket.orders import order_messages
from streams.app import Streams
from streams.codecs import decode_event, encode


def install(streams: Streams, reference: ReferenceData, clock: TimeSource) -> Any:
    views = Staged(streams.order_views)
    boundary = boundary_for(streams, "fan_out_work_orders", clock, ticket_keys=True)

    async def fan_out(record: Record, outbox: Outbox) -> None:
        event = decode_event(record.value or b"")
        stored = views.get(event.ticket_id)
        before = TicketState.model_validate_json(stored) if stored is not None else None
        if before is not None and event.version <= before.version:
            return  # already fanned out before a restart or rebalance
        after = fold(before, event)
        for order in order_messages(before, after, event, reference.jurisdiction):
            await outbox.send(streams.unit_orders(order.unit), order.ticket_id.encode(), encode(order))
        views[event.ticket_id] = encode(after)

    @streams.app.agent(streams.events, name="fan_out_work_orders", concurrency=1)
    async def fan_out_work_orders(stream: Any) -> None:
        async for events in stream.take_events(TAKE, within=WITHIN_S):
            await boundary.handle_each([Record.of(event) for event in events], fan_out, (views,))

    return fan_out_work_orders
