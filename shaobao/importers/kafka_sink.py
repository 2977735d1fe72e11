"""Sending an import to Kafka with aiokafka: appeals to `appeals.intake`, items that cannot be
appeals to `appeals.rejected` (so ops see them beside the intake agent's rejections)."""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from schemas.appeal import Appeal
from schemas.rejections import AppealRejected, SourcePosition
from shaobao.importers.progress import Progress
from streams.codecs import IntakeRejection, rejection
from streams.kafka_access import KafkaAccess
from streams.names import TopicNames
from streams.partitioning import partition_for

# A batch per topic partition, sent when full: a few hundred rows each, one request per batch.
BATCH_BYTES = 256 * 1024
# Every SETTLE_EVERY items the open batches are sent and the acknowledged items counted; at
# most MAX_UNSETTLED items wait for their acknowledgement, however long the file.
SETTLE_EVERY = 2_000
MAX_UNSETTLED = 20_000


@dataclass(frozen=True)
class ReadAppeal:
    """A row or a file that is an appeal, and what the importer guessed to make it one."""

    where: str
    appeal: Appeal
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Refused:
    """A row or a file that cannot be an appeal: why, and the bytes as read.

    `rejection_id` is deterministic (file name, line, digest of the bytes): importing the
    same file again files the same id, which `shaobao rejected list` shows once.
    """

    where: str
    reason: str
    message: str
    original: bytes
    source: SourcePosition
    rejection_id: str
    key: str | None


ImportItem = ReadAppeal | Refused


@dataclass
class ImportSummary:
    """What an import did. `repeated`: appeals whose `channel:source_id` came earlier in the
    same import; they are sent too, and the intake agent records them on the ticket."""

    read: int = 0
    accepted: int = 0
    repeated: list[tuple[str, str]] = field(default_factory=list)
    rejected: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    notes: list[tuple[str, str]] = field(default_factory=list)

    @property
    def rejected_count(self) -> int:
        return sum(len(found) for found in self.rejected.values())


class ImportAborted(Exception):
    """Kafka did not acknowledge a record; `summary` says how far the import got."""

    def __init__(self, message: str, summary: ImportSummary) -> None:
        super().__init__(message)
        self.summary = summary


def local_rejection(item: Refused, now: datetime) -> AppealRejected:
    """A rejection record for an item the importer refused, keeping what was read.

    On the topic its reason is `schema_violation` (the contract's closed set); the importer's
    finer reason opens the message. Built as the intake agent builds its own: the first
    256 KiB of the row or file (base64 unless UTF-8 text the contract takes), its length and
    SHA-256, so a mail of any size or bytes is kept on the topic."""
    key = item.key.encode("utf-8", "surrogatepass") if item.key is not None else None
    why = IntakeRejection("schema_violation", f"{item.reason}: {item.where}: {item.message}")
    return rejection(item.original, key, why, item.source, now, rejection_id=item.rejection_id)


def _record(item: ImportItem, names: TopicNames, now: datetime) -> tuple[str, str | None, str]:
    """(topic, key, value) for one item."""
    if isinstance(item, ReadAppeal):
        return names.intake, item.appeal.intake_key, item.appeal.model_dump_json()
    return names.rejected, item.key, local_rejection(item, now).model_dump_json()


class _Batch:
    """Records for one topic partition, built in place and sent whole (aiokafka's batch API:
    no future nor partitioner call per record); `sent` is done once the broker acknowledged."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.builder = producer.create_batch()
        self.sent: asyncio.Future[object] | None = None


class _Batches:
    """The open batch of each topic partition: a record goes to its key's partition (Kafka's
    default partitioner, as `producer.send` would choose), a full batch is sent at once."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer
        self._partitions: dict[str, int] = {}
        self._open: dict[tuple[str, int], _Batch] = {}

    async def add(self, topic: str, key: bytes | None, value: bytes) -> _Batch:
        """Append one record; returns the batch it is in."""
        partition = await self._partition(topic, key)
        batch = self._open.get((topic, partition))
        if batch is None:
            batch = self._open[(topic, partition)] = _Batch(self._producer)
        if batch.builder.append(timestamp=None, key=key, value=value) is None:  # full
            await self._send(topic, partition, batch)
            batch = self._open[(topic, partition)] = _Batch(self._producer)
            # An empty batch takes any record; the broker refuses one over its limit.
            batch.builder.append(timestamp=None, key=key, value=value)
        return batch

    async def flush(self) -> None:
        """Send every open batch."""
        for (topic, partition), batch in list(self._open.items()):
            await self._send(topic, partition, batch)

    async def _send(self, topic: str, partition: int, batch: _Batch) -> None:
        del self._open[(topic, partition)]
        # Waits while the partition's previous batch is queued: the broker sets the pace.
        batch.sent = await self._producer.send_batch(batch.builder, topic, partition=partition)

    async def _partition(self, topic: str, key: bytes | None) -> int:
        count = self._partitions.get(topic)
        if count is None:
            count = self._partitions[topic] = len(await self._producer.partitions_for(topic))
        return random.randrange(count) if key is None else partition_for(key, count)  # noqa: S311


async def send_items(
    kafka: KafkaAccess, names: TopicNames, items: Iterable[ImportItem], progress: Progress, now: datetime
) -> ImportSummary:
    """Produce every item (acks=all, idempotent, in batches per partition, pipelined); items
    are read as they are sent. Raises `ImportAborted` if Kafka fails."""
    summary = ImportSummary()
    first_seen: dict[str, str] = {}
    producer = AIOKafkaProducer(**kafka.producer_options(linger_ms=10, max_batch_size=BATCH_BYTES))
    try:
        await producer.start()
        batches = _Batches(producer)
        pending: deque[tuple[ImportItem, _Batch]] = deque()
        for item in items:
            summary.read += 1
            topic, key, value = _record(item, names, now)
            pending.append((item, await batches.add(topic, key.encode() if key else None, value.encode())))
            if len(pending) % SETTLE_EVERY == 0:
                await batches.flush()
                await _settle(pending, summary, progress, first_seen, MAX_UNSETTLED)
        await batches.flush()
        await _settle(pending, summary, progress, first_seen, 0)
    except KafkaError as exc:
        # Unacknowledged records may still land; re-running the import is safe, since the
        # intake agent keeps one ticket per channel:source_id and counts the rest as duplicates.
        raise ImportAborted(f"Kafka at {kafka.bootstrap_servers} failed: {exc!r}", summary) from exc
    finally:
        await producer.stop()
    return summary


async def _settle(
    pending: deque[tuple[ImportItem, _Batch]],
    summary: ImportSummary,
    progress: Progress,
    first_seen: dict[str, str],
    keep: int,
) -> None:
    """Count the acknowledged items, oldest first: those whose batch is acknowledged already,
    then (waiting for it) any beyond the `keep` newest. Every item's batch has been sent."""
    settled = 0
    while pending:
        item, batch = pending[0]
        assert batch.sent is not None
        if len(pending) <= keep and not batch.sent.done():
            break
        await batch.sent
        pending.popleft()
        settled += 1
        _account(item, summary, first_seen)
    progress.advance(settled)


def _account(item: ImportItem, summary: ImportSummary, first_seen: dict[str, str]) -> None:
    if isinstance(item, Refused):
        summary.rejected.setdefault(item.reason, []).append((item.where, item.message))
        return
    summary.notes.extend((item.where, note) for note in item.notes)
    key = item.appeal.intake_key
    if key in first_seen:
        summary.repeated.append((item.where, f"{key} (first at {first_seen[key]})"))
    else:
        first_seen[key] = item.where
        summary.accepted += 1
