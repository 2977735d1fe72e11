"""Sending an import to Kafka: appeals to `appeals.intake`, items that cannot be appeals to
`appeals.rejected` (so ops see them beside the intake agent's rejections), with aiokafka."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from schemas.appeal import Appeal
from schemas.rejections import AppealRejected, SourcePosition
from shaobao.importers.progress import Progress
from streams.names import TopicNames

SETTLE_EVERY = 500
# The broker refuses records over ~1 MB; a rejected mail with attachments can be bigger.
MAX_ORIGINAL_BYTES = 256 * 1024


@dataclass(frozen=True)
class ImportItem:
    """One row or one file: its appeal, or the problem that keeps it from being one."""

    where: str
    appeal: Appeal | None
    problem: str | None
    original: bytes
    source: SourcePosition
    rejection_key: str | None = None
    notes: tuple[str, ...] = ()


@dataclass
class ImportSummary:
    read: int = 0
    sent: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)


class ImportAborted(Exception):
    """Kafka did not acknowledge a record; `summary` says how far the import got."""

    def __init__(self, message: str, summary: ImportSummary) -> None:
        super().__init__(message)
        self.summary = summary


def local_rejection(item: ImportItem, run: str, now: datetime) -> AppealRejected:
    """A rejection record for an item the importer refused, keeping what was read."""
    data = item.original[:MAX_ORIGINAL_BYTES]
    cut = " (original cut to 256 KiB; the file has it all)" if len(item.original) > len(data) else ""
    try:
        original, encoding = data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        original, encoding = base64.b64encode(data).decode("ascii"), "base64"
    return AppealRejected(
        rejection_id=f"{item.source.topic}:{item.source.offset}@{run}",
        reason="schema_violation",
        message=f"{item.where}: {item.problem}{cut}",
        key=item.rejection_key,
        original=original,
        original_encoding=encoding,
        source=item.source,
        rejected_at=now,
    )


async def send_items(
    bootstrap: str, names: TopicNames, items: Sequence[ImportItem], progress: Progress, now: datetime
) -> ImportSummary:
    """Produce every item (acks=all, idempotent); raises `ImportAborted` if Kafka fails."""
    summary = ImportSummary(read=len(items))
    run = now.strftime("%Y%m%dT%H%M%S")
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=10
    )
    try:
        await producer.start()
        pending: list[tuple[ImportItem, asyncio.Future[object]]] = []
        for item in items:
            summary.notes.extend((item.where, note) for note in item.notes)
            key: str | None
            if item.appeal is not None:
                key, value, topic = item.appeal.intake_key, item.appeal.model_dump_json(), names.intake
            else:
                key = item.rejection_key
                value, topic = local_rejection(item, run, now).model_dump_json(), names.rejected
            future = await producer.send(topic, key=key.encode() if key else None, value=value.encode())
            pending.append((item, future))
            if len(pending) >= SETTLE_EVERY:
                await _settle(pending, summary, progress)
        await _settle(pending, summary, progress)
    except KafkaError as exc:
        # Unacknowledged records may still land; re-running the import is safe, since the
        # intake agent keeps one ticket per channel:source_id and counts the rest as duplicates.
        raise ImportAborted(f"Kafka at {bootstrap} failed: {exc!r}", summary) from exc
    finally:
        await producer.stop()
    return summary


async def _settle(
    pending: list[tuple[ImportItem, asyncio.Future[object]]], summary: ImportSummary, progress: Progress
) -> None:
    for item, future in pending:
        await future
        if item.appeal is not None:
            summary.sent += 1
        else:
            summary.rejected.append((item.where, item.problem or "?"))
        progress.advance()
    pending.clear()
