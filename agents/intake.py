"""Intake agent: validate each appeal, keep one ticket per `channel:source_id`, route it."""

from __future__ import annotations

from typing import Any

from agents.ports import Clock, ReferenceData
from domain.intake import duplicate_command, receive_command, ticket_id_for
from schemas.commands import TicketCommand
from schemas.rejections import SourcePosition
from streams.app import Streams
from streams.codecs import IntakeRejection, decode_appeal, encode, rejection
from streams.partitioning import partition_for


def install(streams: Streams, reference: ReferenceData, clock: Clock) -> Any:
    seen, commands = streams.intake_seen, streams.commands

    @streams.app.agent(streams.intake, name="take_in_appeals", concurrency=1)
    async def take_in_appeals(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            source = SourcePosition(topic=message.topic, partition=message.partition, offset=message.offset)
            try:
                appeal = decode_appeal(event.value, event.key, clock.now())
            except IntakeRejection as error:
                value = encode(rejection(event.value, event.key, error, source, clock.now()))
                await streams.rejected.send(key=event.key, value=value, force=True)
                continue
            key = appeal.intake_key.encode()
            home = partition_for(key, streams.intake.partitions or message.partition + 1)
            if home != source.partition:
                # A producer with another partitioner (e.g. librdkafka's CRC32) put it
                # elsewhere: re-send it to the partition whose table knows its duplicates.
                await streams.intake.send(key=key, value=event.value, partition=home, force=True)
                continue
            known = seen.get(appeal.intake_key)
            command: TicketCommand
            if known is not None:
                ticket_id = known.decode()
                command = duplicate_command(appeal, ticket_id, source.partition, source.offset, clock.now())
            else:
                ticket_id = ticket_id_for(
                    appeal, source.partition, source.offset, reference.jurisdiction.timezone
                )
                command = receive_command(appeal, ticket_id, reference.router.decide(appeal), clock.now())
                seen[appeal.intake_key] = ticket_id.encode()
            await commands.send(key=ticket_id.encode(), value=encode(command), force=True)

    return take_in_appeals
