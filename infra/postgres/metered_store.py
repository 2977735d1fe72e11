"""The sink's store with metrics: batch sizes, write time, and every failed write counted.

A decorator around any `TicketEventStore`, so the sink agent stays as it is and the store
keeps its SQL. It also counts failures for the ops monitor's store-error alerts.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from agents.ports import StoreUnavailable, TicketEventStore
from schemas.events import TicketEvent
from streams import metrics


class MeteredTicketEventStore:
    def __init__(self, inner: TicketEventStore) -> None:
        self._inner = inner
        self._errors = 0

    @property
    def errors_total(self) -> int:
        return self._errors

    async def record(self, events: Sequence[TicketEvent]) -> int:
        started = time.perf_counter()
        try:
            written = await self._inner.record(events)
        except StoreUnavailable as exc:
            # PostgreSQL unreachable: the sink retries the same batch; each attempt counts.
            self._failed(_cause_name(exc))
            raise
        except Exception as exc:
            # Anything else (a constraint, a bad payload) crashes the sink: counted first.
            self._failed(type(exc).__name__)
            raise
        # Sizes of written batches only: a batch retried during an outage is one batch.
        metrics.SINK_WRITE.observe(time.perf_counter() - started)
        metrics.SINK_BATCH_SIZE.observe(len(events))
        metrics.SINK_EVENTS_WRITTEN.inc(written)
        return written

    def _failed(self, error: str) -> None:
        self._errors += 1
        metrics.STORE_ERRORS.labels("record", error).inc()


def _cause_name(exc: StoreUnavailable) -> str:
    """The driver's error behind `StoreUnavailable` (ConnectionRefusedError, …): a closed set."""
    cause = exc.__cause__
    return type(cause).__name__ if cause is not None else type(exc).__name__
