"""Orders agent: tell units of the tickets they get, keep and lose on `units.<unit>.orders`,
once per event."""

from __future__ import annotations

from faust.types import AgentT

from agents.boundary import Record, boundary_for
from agents.outbox import Outbox, Staged
from agents.ports import ReferenceData, TimeSource
from agents.subscriptions import each_batch
from domain.ticket import TicketState, order_messages
from domain.ticket.fold import fold
from streams.app import Streams
from streams.codecs import encode


def install(streams: Streams, reference: ReferenceData, clock: TimeSource) -> AgentT[bytes]:
    views = Staged(streams.order_views)
    boundary = boundary_for(streams, "fan_out_work_orders", clock, ticket_keys=True)

    async def fan_out(record: Record, outbox: Outbox) -> None:
        event = streams.events.decode(record.value)
        stored = views.get(event.ticket_id)
        before = TicketState.model_validate_json(stored) if stored is not None else None
        if before is not None and event.version <= before.version:
            return  # already fanned out before a restart or rebalance
        after = fold(before, event)
        for order in order_messages(before, after, event, reference.jurisdiction):
            await outbox.send(streams.unit_orders(order.unit), order.ticket_id, order)
        views[event.ticket_id] = encode(after)

    return each_batch(streams, streams.events, boundary, fan_out, (views,))
