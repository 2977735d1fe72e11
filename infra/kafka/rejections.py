"""`appeals.rejected` with aiokafka: read it all from the beginning (no consumer group, so
reading moves no one's offsets), and put originals back on `appeals.intake`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from pydantic import ValidationError

from infra.kafka.topic_read import read_whole_topic
from schemas.rejections import AppealRejected
from streams.kafka_access import KafkaAccess
from streams.kept import restore

IMPORT_SOURCE_PREFIX = "import:"


@dataclass(frozen=True)
class StoredRejection:
    """One record of `appeals.rejected`; `rejection` is None if it is not an `AppealRejected`."""

    partition: int
    offset: int
    raw: bytes
    rejection: AppealRejected | None


class KeyNotFixable(ValueError):
    """The original payload does not say its channel and source id."""


def original_bytes(rejection: AppealRejected) -> bytes:
    """The record as it was produced (only its first 256 KiB when `original_truncated`): base64
    is how bytes that are not UTF-8 text the contract takes were kept."""
    return restore(rejection.original, rejection.original_encoding) or b""


def key_bytes(rejection: AppealRejected) -> bytes | None:
    """The record's key as it was produced (only its first 4 KiB when `key_truncated`)."""
    return restore(rejection.key, rejection.key_encoding)


def is_from_import(rejection: AppealRejected) -> bool:
    """Refused by `shaobao import` (a CSV row, an e-mail file), not by the intake agent."""
    return rejection.source.topic.startswith(IMPORT_SOURCE_PREFIX)


def corrected_key(original: bytes) -> str:
    """`channel:source_id` as the payload itself says; `KeyNotFixable` when it cannot."""
    try:
        data = json.loads(original)
    except (ValueError, RecursionError) as exc:
        raise KeyNotFixable(f"the original is not JSON ({str(exc)[:80]})") from exc
    if not isinstance(data, dict):
        raise KeyNotFixable("the original is not a JSON object")
    channel, source_id = data.get("channel"), data.get("source_id")
    if not isinstance(channel, str) or not isinstance(source_id, str) or not source_id:
        raise KeyNotFixable("the original has no string channel and source_id")
    return f"{channel}:{source_id}"


async def read_rejections(kafka: KafkaAccess, topic: str) -> list[StoredRejection]:
    """Every record on the topic now, oldest first within each partition."""
    return [_stored(r.partition, r.offset, r.value) for r in await read_whole_topic(kafka, topic)]


def _stored(partition: int, offset: int, raw: bytes) -> StoredRejection:
    try:
        rejection: AppealRejected | None = AppealRejected.model_validate_json(raw)
    except ValidationError:
        rejection = None  # not ours, or a future schema version: shown as unreadable, not hidden
    return StoredRejection(partition=partition, offset=offset, raw=raw, rejection=rejection)


async def resubmit(
    kafka: KafkaAccess, topic: str, records: Sequence[tuple[bytes | None, bytes]]
) -> list[tuple[int, int]]:
    """Produce each (key, value) and wait for the broker's acknowledgement (acks=all);
    returns each record's (partition, offset)."""
    producer = AIOKafkaProducer(**kafka.producer_options())
    await producer.start()
    try:
        placed = []
        for key, value in records:
            metadata = await producer.send_and_wait(topic, key=key, value=value)
            placed.append((metadata.partition, metadata.offset))
        return placed
    finally:
        await producer.stop()
