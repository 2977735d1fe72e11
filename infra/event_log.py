"""`tickets.events` read whole with aiokafka: no consumer group, so reading moves no offsets.

For `shaobao verify` and the report's cross-checks; the log is the source of truth."""

from __future__ import annotations

from collections import defaultdict

from infra.topic_read import read_whole_topic
from schemas.events import TICKET_EVENT, TicketEvent


async def read_topic(bootstrap: str, topic: str) -> list[bytes]:
    """Every record's value on the topic now, oldest first within each partition."""
    return [record.value for record in await read_whole_topic(bootstrap, topic)]


async def read_ticket_events(bootstrap: str, topic: str) -> list[TicketEvent]:
    """Every event on `tickets.events`, decoded (an undecodable record fails loudly)."""
    return [TICKET_EVENT.validate_json(value) for value in await read_topic(bootstrap, topic)]


def logs_by_ticket(events: list[TicketEvent]) -> list[list[TicketEvent]]:
    """One log per ticket, oldest first, each event once."""
    by_ticket: dict[str, dict[str, TicketEvent]] = defaultdict(dict)
    for event in events:
        by_ticket[event.ticket_id][event.event_id] = event
    return [sorted(log.values(), key=lambda e: e.version) for log in by_ticket.values()]
