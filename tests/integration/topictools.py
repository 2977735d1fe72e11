"""Reading whole topics to their current end, and producing with the broker's placement."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from streams.kafka_access import KafkaAccess


@dataclass(frozen=True)
class Placed:
    key: bytes | None
    value: bytes | None
    partition: int
    offset: int


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


async def produce_placed(
    kafka: KafkaAccess, topic: str, records: Sequence[tuple[bytes | None, bytes | None]]
) -> list[Placed]:
    """Produce in order, each acknowledged (acks=all); returns where each landed."""
    producer = AIOKafkaProducer(**kafka.producer_options(max_request_size=2 * 1024 * 1024))
    await producer.start()
    try:
        placed = []
        for key, value in records:
            meta = await producer.send_and_wait(topic, key=key, value=value)
            placed.append(Placed(key, value, meta.partition, meta.offset))
        return placed
    finally:
        await producer.stop()


async def read_topics(kafka: KafkaAccess, topics: list[str], timeout_s: float = 30.0) -> list[Record]:
    """Every record on the topics now, from the beginning, with no consumer group."""
    consumer = AIOKafkaConsumer(
        *topics,
        **kafka.client_options(),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_bytes=8 * 1024 * 1024,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    try:
        # Subscribed without a group: the consumer takes every partition of the topics.
        partitions = sorted(consumer.assignment())
        assert {tp.topic for tp in partitions} == set(topics), f"not all of {topics} exist"
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: list[Record] = []
        deadline = time.monotonic() + timeout_s
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topics} to the end in {timeout_s}s")
            batch = await consumer.getmany(timeout_ms=500)
            for messages in batch.values():
                found.extend(Record(m.topic, m.partition, m.offset, m.key, m.value) for m in messages)
        return found
    finally:
        await consumer.stop()
