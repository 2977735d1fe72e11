"""Small real-Kafka helpers for tests: produce, and read a topic from the start."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from streams.kafka_access import KafkaAccess

T = TypeVar("T")


async def produce(kafka: KafkaAccess, topic: str, records: Sequence[tuple[bytes | None, bytes]]) -> None:
    producer = AIOKafkaProducer(**kafka.producer_options())
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(topic, key=key, value=value)
    finally:
        await producer.stop()


async def read_all(kafka: KafkaAccess, topic: str, idle_s: float = 1.0) -> list[tuple[bytes | None, bytes]]:
    """Every record on the topic now, read from the beginning with no consumer group."""
    consumer = AIOKafkaConsumer(
        topic,
        **kafka.client_options(),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    records: list[tuple[bytes | None, bytes]] = []
    try:
        end = await consumer.end_offsets(list(consumer.assignment()))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=int(idle_s * 1000))
            for messages in batch.values():
                records.extend((m.key, m.value) for m in messages)
            positions = {tp: await consumer.position(tp) for tp in end}
            if all(positions[tp] >= offset for tp, offset in end.items()):
                break
    finally:
        await consumer.stop()
    return records


async def eventually(probe: Callable[[], Awaitable[T | None]], timeout_s: float = 20.0) -> T:
    """Poll until the probe returns something truthy; fail with the timeout otherwise."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = await probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing after {timeout_s}s")
        await asyncio.sleep(0.2)


def appeal(**overrides: Any) -> dict[str, Any]:
    base = {
        "channel": "phone",
        "source_id": f"it-{uuid.uuid4().hex[:12]}",
        "received_at": "2026-03-02T09:15:00+08:00",
        "text": "来电人反映：白马桥街道凤凰城小区门口下水道堵塞，污水外溢到路面，臭味很大，请相关部门疏通。",
        "address": "凤凰城小区",
        "caller": {"name": "向先生", "phone": "18939595216"},
    }
    return {**base, **overrides}


def encoded(record: dict[str, Any]) -> tuple[bytes, bytes]:
    key = f"{record['channel']}:{record['source_id']}".encode()
    return key, json.dumps(record, ensure_ascii=False).encode()


async def ticket_for(db: asyncpg.Connection, source_id: str) -> asyncpg.Record | None:
    return await db.fetchrow("SELECT * FROM tickets WHERE state->'appeal'->>'source_id' = $1", source_id)
