"""Sending an import to Kafka with aiokafka: appeals to `appeals.intake`, items that cannot be
appeals to `appeals.rejected` (so ops see them beside the intake agent's rejections)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
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

SETTLE_EVERY = 500


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


async def send_items(
    kafka: KafkaAccess, names: TopicNames, items: Sequence[ImportItem], progress: Progress, now: datetime
) -> ImportSummary:
    """Produce every item (acks=all, idempotent, pipelined); raises `ImportAborted` if Kafka fails."""
    summary = ImportSummary(read=len(items))
    first_seen: dict[str, str] = {}
    producer = AIOKafkaProducer(**kafka.client_options(), acks="all", enable_idempotence=True, linger_ms=10)
    try:
        await producer.start()
        pending: list[tuple[ImportItem, asyncio.Future[object]]] = []
        for item in items:
            topic, key, value = _record(item, names, now)
            future = await producer.send(topic, key=key.encode() if key else None, value=value.encode())
            pending.append((item, future))
            if len(pending) >= SETTLE_EVERY:
                await _settle(pending, summary, progress, first_seen)
        await _settle(pending, summary, progress, first_seen)
    except KafkaError as exc:
        # Unacknowledged records may still land; re-running the import is safe, since the
        # intake agent keeps one ticket per channel:source_id and counts the rest as duplicates.
        raise ImportAborted(f"Kafka at {kafka.bootstrap_servers} failed: {exc!r}", summary) from exc
    finally:
        await producer.stop()
    return summary


async def _settle(
    pending: list[tuple[ImportItem, asyncio.Future[object]]],
    summary: ImportSummary,
    progress: Progress,
    first_seen: dict[str, str],
) -> None:
    for item, future in pending:
        await future
        if isinstance(item, Refused):
            summary.rejected.setdefault(item.reason, []).append((item.where, item.message))
        else:
            summary.notes.extend((item.where, note) for note in item.notes)
            key = item.appeal.intake_key
            if key in first_seen:
                summary.repeated.append((item.where, f"{key} (first at {first_seen[key]})"))
            else:
                first_seen[key] = item.where
                summary.accepted += 1
        progress.advance()
    pending.clear()
