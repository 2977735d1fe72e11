"""`tickets.events` read whole with aiokafka: no consumer group, so reading moves no offsets.

For `shaobao verify` and the report's cross-checks; the log is the source of truth."""

from __future__ import annotations

from collections import defaultdict

from domain.ticket import accepted_log
from infra.kafka.topic_read import read_partition, read_whole_topic
from schemas.events import TICKET_EVENT, TicketEvent
from streams.kafka_access import KafkaAccess
from streams.partitioning import partition_for


async def read_topic(kafka: KafkaAccess, topic: str) -> list[bytes]:
    """Every record's value on the topic now, oldest first within each partition."""
    return [record.value for record in await read_whole_topic(kafka, topic)]


async def read_ticket_events(kafka: KafkaAccess, topic: str) -> list[TicketEvent]:
    """Every event on `tickets.events`, decoded (an undecodable record fails loudly)."""
    return [TICKET_EVENT.validate_json(value) for value in await read_topic(kafka, topic)]


def logs_by_ticket(events: list[TicketEvent]) -> list[list[TicketEvent]]:
    """One log per ticket, oldest first, each event once."""
    by_ticket: dict[str, dict[str, TicketEvent]] = defaultdict(dict)
    for event in events:
        by_ticket[event.ticket_id][event.event_id] = event
    return [sorted(log.values(), key=lambda e: e.version) for log in by_ticket.values()]


class KafkaTicketLog:
    """One ticket's events re-read from `tickets.events`: its key's partition, from the start.

    For the sink, when the store lacks a ticket's earlier events (a database restored from a
    backup or failed over behind the log). It reads the whole partition, so it is slow on a
    long log; it runs only for such a gap."""

    def __init__(self, kafka: KafkaAccess, topic: str, partitions: int) -> None:
        self._kafka, self._topic, self._partitions = kafka, topic, partitions

    async def held_events(self, ticket_id: str) -> list[TicketEvent]:
        key = ticket_id.encode()
        records = await read_partition(self._kafka, self._topic, partition_for(key, self._partitions))
        events = []
        for record in records:
            if record.key != key:
                continue
            try:
                events.append(TICKET_EVENT.validate_json(record.value))
            except ValueError:
                continue  # a broken writer's record: not an event of this ticket
        return accepted_log(events)[0]
