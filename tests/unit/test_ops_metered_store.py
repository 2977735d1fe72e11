"""The sink's store with metrics: what a batch, a failed write and a crash count."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from agents.ports import StoreUnavailable
from infra.postgres.metered_store import MeteredTicketEventStore
from schemas.events import TicketEvent
from streams import metrics


class FakeStore:
    def __init__(self) -> None:
        self.failures: list[Exception] = []

    async def record(self, events: Sequence[TicketEvent]) -> int:
        if self.failures:
            raise self.failures.pop(0)
        return len(events) - 1  # one of them was a replay


def value(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def unavailable(cause: Exception) -> StoreUnavailable:
    try:
        raise StoreUnavailable(str(cause)) from cause
    except StoreUnavailable as exc:
        return exc


async def test_a_written_batch_is_measured_once_however_often_it_was_retried() -> None:
    inner = FakeStore()
    store = MeteredTicketEventStore(inner)
    batch: list[TicketEvent] = [object()] * 7  # type: ignore[list-item]  # the fake never reads them
    before = {
        "batches": value("shaobao_sink_batch_size_count"),
        "sizes": value("shaobao_sink_batch_size_sum"),
        "written": value("shaobao_sink_events_written_total"),
        "refused": value("shaobao_store_errors_total", operation="record", error="ConnectionRefusedError"),
    }
    inner.failures = [unavailable(ConnectionRefusedError()), unavailable(ConnectionRefusedError())]
    for _ in range(2):
        with pytest.raises(StoreUnavailable):
            await store.record(batch)
    assert await store.record(batch) == 6
    assert store.errors_total == 2
    assert value("shaobao_sink_batch_size_count") == before["batches"] + 1
    assert value("shaobao_sink_batch_size_sum") == before["sizes"] + 7
    assert value("shaobao_sink_events_written_total") == before["written"] + 6
    assert (
        value("shaobao_store_errors_total", operation="record", error="ConnectionRefusedError")
        == before["refused"] + 2
    )


async def test_an_error_that_crashes_the_sink_is_counted_before_it_propagates() -> None:
    inner = FakeStore()
    inner.failures = [ValueError("bad payload")]
    store = MeteredTicketEventStore(inner)
    before = value("shaobao_store_errors_total", operation="record", error="ValueError")
    with pytest.raises(ValueError, match="bad payload"):
        await store.record([])
    assert store.errors_total == 1
    assert value("shaobao_store_errors_total", operation="record", error="ValueError") == before + 1
