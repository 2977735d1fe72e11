"""A topic read whole with aiokafka, from the beginning to the end offsets seen at the start.

No consumer group: reading moves no one's offsets. Fetch sizes allow a rejection's ~1 MB
original. For `shaobao verify`, the reports' cross-checks, `shaobao rejected` (all of it at
once) and `shaobao replay` (a batch at a time, for a log too long to hold)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from streams.kafka_access import KafkaAccess

READ_TIMEOUT_S = 120.0
FETCH_MS = 500


@dataclass(frozen=True)
class TopicRecord:
    partition: int
    offset: int
    value: bytes
    key: bytes | None = None


async def read_whole_topic(
    kafka: KafkaAccess, topic: str, timeout_s: float = READ_TIMEOUT_S
) -> list[TopicRecord]:
    """Every record on the topic now, oldest first within each partition."""
    return await _read(kafka, topic, None, timeout_s)


async def read_partition(
    kafka: KafkaAccess, topic: str, partition: int, timeout_s: float = READ_TIMEOUT_S
) -> list[TopicRecord]:
    """Every record on one partition of the topic now, oldest first."""
    return await _read(kafka, topic, partition, timeout_s)


async def _read(kafka: KafkaAccess, topic: str, partition: int | None, timeout_s: float) -> list[TopicRecord]:
    found: list[TopicRecord] = []
    async with topic_reading(kafka, topic, partition) as reading:
        async for batch in reading.batches(timeout_s=timeout_s):
            found.extend(batch)
    return found


class TopicReading:
    """A topic (or one partition) from its first offsets to the end offsets at the start."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        topic: str,
        first: dict[TopicPartition, int],
        ends: dict[TopicPartition, int],
    ) -> None:
        self._consumer, self._topic, self._first, self._ends = consumer, topic, first, ends

    @property
    def total(self) -> int:
        """How many records there are to read (end offsets less first offsets)."""
        return sum(end - self._first[tp] for tp, end in self._ends.items())

    async def batches(
        self, max_records: int | None = None, timeout_s: float = READ_TIMEOUT_S
    ) -> AsyncIterator[list[TopicRecord]]:
        """The records, as fetched (at most `max_records` at a time), oldest first within each
        partition; records written since the start are left out. Raises TimeoutError when
        nothing arrives for `timeout_s` while records are left to read."""
        consumer = self._consumer
        idle_since = time.monotonic()
        while left := [tp for tp, end in self._ends.items() if await consumer.position(tp) < end]:
            if time.monotonic() - idle_since > timeout_s:
                raise TimeoutError(f"could not read {self._topic} to its end: nothing for {timeout_s:.0f}s")
            fetched = await consumer.getmany(*left, timeout_ms=FETCH_MS, max_records=max_records)
            batch = [
                TopicRecord(m.partition, m.offset, m.value or b"", m.key)
                for tp, messages in fetched.items()
                for m in messages
                if m.offset < self._ends[tp]
            ]
            if batch:
                idle_since = time.monotonic()
                yield batch


@asynccontextmanager
async def topic_reading(
    kafka: KafkaAccess, topic: str, partition: int | None = None, timeout_s: float = READ_TIMEOUT_S
) -> AsyncIterator[TopicReading]:
    """A consumer without a group on every partition of `topic` (or on `partition`), at their
    first offsets; raises LookupError when there is no such topic."""
    consumer = AIOKafkaConsumer(
        **kafka.client_options(),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 * 1024 * 1024,
        fetch_max_bytes=16 * 1024 * 1024,
    )
    await consumer.start()
    try:
        if topic not in await consumer.topics():
            raise LookupError(f"no topic {topic} on {kafka.bootstrap_servers}")
        if partition is None:
            partitions = await _all_partitions(consumer, topic, timeout_s)
        else:
            partitions = [TopicPartition(topic, partition)]
            consumer.assign(partitions)
        first = await consumer.beginning_offsets(partitions)
        await consumer.seek_to_beginning(*partitions)
        yield TopicReading(consumer, topic, first, await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


async def _all_partitions(consumer: AIOKafkaConsumer, topic: str, timeout_s: float) -> list[TopicPartition]:
    """Subscribed without a group, a consumer is given every partition (and commits nothing)."""
    consumer.subscribe([topic])
    deadline = time.monotonic() + timeout_s
    while not consumer.assignment():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no partitions of {topic} assigned in {timeout_s:.0f}s")
        await asyncio.sleep(0.05)
    return sorted(consumer.assignment())
