"""Sink agent: every ticket event into PostgreSQL, in batches, idempotently."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from agents.ports import StoreUnavailable, TicketEventStore
from streams.app import Streams
from streams.codecs import decode_event

log = logging.getLogger(__name__)
BATCH_SIZE = 500
BATCH_WITHIN_S = 0.2
MAX_BACKOFF_S = 30.0


def install(streams: Streams, store: TicketEventStore) -> Any:
    @streams.app.agent(streams.events, name="record_ticket_events", concurrency=1)
    async def record_ticket_events(stream: Any) -> None:
        async for batch in stream.take(BATCH_SIZE, within=BATCH_WITHIN_S):
            events = [decode_event(raw) for raw in batch]
            backoff = 0.5
            while True:
                try:
                    await store.record(events)
                    break
                except StoreUnavailable as exc:
                    # PostgreSQL is down: hold this batch (no offsets are acked past it) and retry.
                    log.warning("ticket store unavailable, retrying in %.1fs: %s", backoff, exc)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_S)

    return record_ticket_events
