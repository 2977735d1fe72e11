"""Intake agent: read each appeal, let `domain.intake.decision` decide, send what it decided."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from faust.types import AgentT

from agents.boundary import Record, boundary_for
from agents.outbox import Outbox, Staged
from agents.ports import ReferenceData, TimeSource
from agents.subscriptions import each_batch
from domain.intake import Admit, Arrival, Reject, Reroute, take_in
from schemas.appeal import Appeal
from schemas.rejections import AppealRejected, SourcePosition
from streams.app import Streams
from streams.codecs import IntakeRejection, decode_appeal, rejection
from streams.kept import KEY_LIMIT
from streams.partitioning import partition_for


def read(record: Record, now: datetime) -> Appeal | Reject:
    """The record as an appeal, or why it is not one."""
    try:
        return decode_appeal(record.value, record.key, now)
    except IntakeRejection as error:
        return Reject(error.reason, error.message)


def rejection_of(record: Record, outcome: Reject, now: datetime) -> AppealRejected:
    """The rejection, keeping the record's own bytes so that it can be fixed and replayed."""
    source = SourcePosition(topic=record.topic, partition=record.partition, offset=record.offset)
    return rejection(record.value, record.key, outcome, source, now)


def home_of(partitions: int, intake_key: str) -> int:
    return partition_for(intake_key.encode(), partitions)


def install(streams: Streams, reference: ReferenceData, clock: TimeSource) -> AgentT[bytes]:
    seen = Staged(streams.intake_seen)
    boundary = boundary_for(streams, "take_in_appeals", clock)

    def ticket_of(intake_key: str) -> str | None:
        known = seen.get(intake_key)
        return None if known is None else known.decode()

    async def step(record: Record, outbox: Outbox) -> None:
        now = clock.now()
        partitions = streams.intake.partitions or record.partition + 1
        at = Arrival(record.partition, record.offset, partial(home_of, partitions))
        zone = reference.jurisdiction.timezone
        outcome = take_in(read(record, now), ticket_of, at, reference.router.decide, zone, now)
        if isinstance(outcome, Reject):
            # Keyed by the first 4 KiB of the record's key: a huge key must not make it too large.
            key = record.key[:KEY_LIMIT] if record.key else None
            await outbox.send(streams.rejected, key, rejection_of(record, outcome, now))
        elif isinstance(outcome, Reroute):
            await outbox.forward(streams.intake, outcome.key.encode(), record.value or b"", outcome.partition)
        else:
            await admit(outcome, outbox)

    async def admit(outcome: Admit, outbox: Outbox) -> None:
        await outbox.send(streams.commands, outcome.command.ticket_id, outcome.command)
        if outcome.remember is not None:
            seen[outcome.intake_key] = outcome.remember.encode()

    return each_batch(streams, streams.intake, boundary, step, (seen,))
