"""`tickets.events` read whole with aiokafka: no consumer group, so reading moves no offsets.

For `shaobao verify` and the report's cross-checks; the log is the source of truth."""

from __future__ import annotations

import time
from collections import defaultdict

from aiokafka import AIOKafkaConsumer

from schemas.events import TICKET_EVENT, TicketEvent

READ_TIMEOUT_S = 120.0


async def read_topic(bootstrap: str, topic: str) -> list[bytes]:
    """Every record's value on the topic now, oldest first within each partition."""
    # Subscribed with no group: the consumer assigns itself every partition, from fresh metadata.
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        partitions = sorted(consumer.assignment(), key=lambda tp: tp.partition)
        if not partitions:
            raise LookupError(f"no topic {topic} on {bootstrap}")
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        values: list[bytes] = []
        deadline = time.monotonic() + READ_TIMEOUT_S
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic} to its end in {READ_TIMEOUT_S:.0f}s")
            batch = await consumer.getmany(timeout_ms=500)
            for messages in batch.values():
                values.extend(m.value or b"" for m in messages)
        return values
    finally:
        await consumer.stop()


async def read_ticket_events(bootstrap: str, topic: str) -> list[TicketEvent]:
    """Every event on `tickets.events`, decoded (an undecodable record fails loudly)."""
    return [TICKET_EVENT.validate_json(value) for value in await read_topic(bootstrap, topic)]


def logs_by_ticket(events: list[TicketEvent]) -> list[list[TicketEvent]]:
    """One log per ticket, oldest first, each event once."""
    by_ticket: dict[str, dict[str, TicketEvent]] = defaultdict(dict)
    for event in events:
        by_ticket[event.ticket_id][event.event_id] = event
    return [sorted(log.values(), key=lambda e: e.version) for log in by_ticket.values()]
