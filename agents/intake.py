"""Intake agent: validate each appeal, keep one ticket per `channel:source_id`, route it."""

from __future__ import annotations

from typing import Any

from agents.boundary import Record, boundary_for
from agents.outbox import TAKE, WITHIN_S, Outbox, Staged
from agents.ports import ReferenceData, TimeSource
from domain.intake.ids import duplicate_command, receive_command, ticket_id_for
from schemas.commands import TicketCommand
from schemas.rejections import SourcePosition
from streams.app import Streams
from streams.codecs import IntakeRejection, decode_appeal, encode, rejection
from streams.kept import KEY_LIMIT
from streams.partitioning import partition_for


def install(streams: Streams, reference: ReferenceData, clock: TimeSource) -> Any:
    seen, commands = Staged(streams.intake_seen), streams.commands
    boundary = boundary_for(streams, "take_in_appeals", clock)

    async def take_in(record: Record, outbox: Outbox) -> None:
        source = SourcePosition(topic=record.topic, partition=record.partition, offset=record.offset)
        try:
            appeal = decode_appeal(record.value, record.key, clock.now())
        except IntakeRejection as error:
            value = encode(rejection(record.value, record.key, error, source, clock.now()))
            # Keyed by the first 4 KiB of the record's key: a huge key must not make it too large.
            await outbox.send(streams.rejected, record.key[:KEY_LIMIT] if record.key else None, value)
            return
        key = appeal.intake_key.encode()
        home = partition_for(key, streams.intake.partitions or record.partition + 1)
        if home != source.partition:
            # A producer with another partitioner (e.g. librdkafka's CRC32) put it
            # elsewhere: re-send it to the partition whose table knows its duplicates.
            await outbox.send(streams.intake, key, record.value or b"", partition=home)
            return
        known = seen.get(appeal.intake_key)
        own = ticket_id_for(appeal, source.partition, source.offset, reference.jurisdiction.timezone)
        command: TicketCommand
        if known is not None and known.decode() != own:
            ticket_id = known.decode()
            command = duplicate_command(appeal, ticket_id, source.partition, source.offset, clock.now())
        else:
            # New, or this very record again after a crash (the table kept it, the offset did
            # not): the same command again, which the ticket agent knows by its id.
            ticket_id = own
            command = receive_command(appeal, ticket_id, reference.router.decide(appeal), clock.now())
        await outbox.send(commands, ticket_id.encode(), encode(command))
        if known is None:
            seen[appeal.intake_key] = ticket_id.encode()

    @streams.app.agent(streams.intake, name="take_in_appeals", concurrency=1)
    async def take_in_appeals(stream: Any) -> None:
        async for events in stream.take_events(TAKE, within=WITHIN_S):
            await boundary.handle_each([Record.of(event) for event in events], take_in, (seen,))

    return take_in_appeals
