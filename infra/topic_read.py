"""A topic read whole with aiokafka, from the beginning to the end offsets seen at the start.

No consumer group: reading moves no one's offsets. Fetch sizes allow a rejection's ~1 MB
original. For `shaobao verify`, the reports' cross-checks and `shaobao rejected`."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from streams.kafka_access import KafkaAccess

READ_TIMEOUT_S = 120.0


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
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: list[TopicRecord] = []
        deadline = time.monotonic() + timeout_s
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic} to its end in {timeout_s:.0f}s")
            batch = await consumer.getmany(timeout_ms=500)
            for messages in batch.values():
                found.extend(TopicRecord(m.partition, m.offset, m.value or b"", m.key) for m in messages)
        return found
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
