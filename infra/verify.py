"""`shaobao verify`: the store against `tickets.events` (see `domain.ticket.consistency`).

Besides each ticket's state, the columns the queries filter on must be those the state
gives (`infra.postgres.store`'s projection), so a row edited by hand is caught too."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import asyncpg

from domain.ticket import Difference, TicketState, compare_events, compare_states, folded_tickets
from infra.kafka.event_log import read_topic
from infra.postgres.store import rewrite_ticket, ticket_row
from schemas.base import validate_json
from schemas.events import TICKET_EVENT, TicketEvent
from streams.kafka_access import KafkaAccess

# The tickets columns `ticket_row` fills, in its order (dispatched_at is checked apart).
ROW_COLUMNS = (
    "ticket_id version status channel appeal_type category urgency town lead_unit co_units received_at "
    "updated_at state signed_at completed_at closed_at resolution satisfaction rework_count merged_into "
    "returns extensions limits flags"
).split()


@dataclass(frozen=True)
class Verification:
    differences: list[Difference]
    refused: list[tuple[TicketEvent, str]]  # on the log, but not held by the store (dead letters)
    undecodable: int  # records on the log that are no ticket event at all (dead letters)
    held: list[TicketEvent]  # what the store must hold
    expected: dict[str, TicketState]  # each ticket's state, folded from `held`


async def verify(kafka: KafkaAccess, events_topic: str, database_url: str) -> Verification:
    records = await read_topic(kafka, events_topic)
    topic, undecodable = decode_events(records)
    conn = await asyncpg.connect(database_url)
    try:
        stored_events = await _stored_events(conn)
        rows = {row["ticket_id"]: row for row in await conn.fetch("SELECT * FROM tickets")}
    finally:
        await conn.close()
    expected, held, refused = folded_tickets(topic)
    stored_states = {tid: TicketState.model_validate_json(row["state"]) for tid, row in rows.items()}
    found = [*compare_events(held, stored_events), *compare_states(expected, stored_states)]
    found += _row_differences(expected, rows, held)
    return Verification(found, refused, undecodable, held, expected)


async def verify_settled(
    kafka: KafkaAccess, events_topic: str, database_url: str, settle_s: float = 3.0, passes: int = 3
) -> Verification:
    """`verify`, on a running system: the store is a little behind the log (the sink's batch)
    and both move while they are read, so a difference counts only when it is still there on
    each of up to `passes` reads, `settle_s` apart. On a quiet system one read decides."""
    result = await verify(kafka, events_topic, database_url)
    for _ in range(passes - 1):
        if not result.differences:
            break
        await asyncio.sleep(settle_s)
        earlier = {(d.kind, d.ticket_id) for d in result.differences}
        again = await verify(kafka, events_topic, database_url)
        kept = [d for d in again.differences if (d.kind, d.ticket_id) in earlier]
        result = Verification(kept, again.refused, again.undecodable, again.held, again.expected)
    return result


def decode_events(records: list[bytes]) -> tuple[list[TicketEvent], int]:
    """The log's ticket events, and how many records are none (a broken writer's)."""
    events: list[TicketEvent] = []
    undecodable = 0
    for value in records:
        try:
            events.append(validate_json(TICKET_EVENT, value))
        except ValueError:
            undecodable += 1
    return events, undecodable


async def repair(database_url: str, verification: Verification) -> list[str]:
    """Rewrite every ticket that differs from the log: its events and its row, in one transaction
    per ticket. Returns the tickets rewritten."""
    tickets = sorted({d.ticket_id for d in verification.differences})
    by_ticket: dict[str, list[TicketEvent]] = {t: [] for t in tickets}
    for event in verification.held:
        if event.ticket_id in by_ticket:
            by_ticket[event.ticket_id].append(event)
    conn = await asyncpg.connect(database_url)
    try:
        for ticket_id in tickets:
            async with conn.transaction():
                await rewrite_ticket(conn, ticket_id, by_ticket[ticket_id])
    finally:
        await conn.close()
    return tickets


async def _stored_events(conn: asyncpg.Connection) -> dict[str, TicketEvent]:
    rows = await conn.fetch("SELECT event_id, ticket_id, version, payload FROM ticket_events")
    stored: dict[str, TicketEvent] = {}
    for row in rows:
        event = TICKET_EVENT.validate_json(row["payload"])
        # The columns beside the payload are what queries use: they must agree with it.
        if (event.event_id, event.ticket_id, event.version) != (
            row["event_id"],
            row["ticket_id"],
            row["version"],
        ):
            event = event.model_copy(update={"event_id": f"{row['event_id']} (columns disagree)"})
        stored[row["event_id"]] = event
    return stored


def _row_differences(
    expected: dict[str, TicketState], rows: dict[str, Any], topic: list[TicketEvent]
) -> list[Difference]:
    first_dispatch: dict[str, Any] = {}
    for event in topic:
        if event.type == "ticket_dispatched":
            at = first_dispatch.get(event.ticket_id)
            first_dispatch[event.ticket_id] = event.occurred_at if at is None else min(at, event.occurred_at)
    found = []
    for ticket_id, state in expected.items():
        row = rows.get(ticket_id)
        if row is None:
            continue  # reported as a missing ticket
        wanted = dict(zip(ROW_COLUMNS, ticket_row(state), strict=True))
        wanted["dispatched_at"] = first_dispatch.get(ticket_id)
        differing = [name for name, value in wanted.items() if not _same(name, row[name], value)]
        if differing:
            found.append(Difference("row_differs", ticket_id, ", ".join(differing)))
    return found


def _same(column: str, stored: Any, wanted: Any) -> bool:
    if column in ("state", "limits"):
        return bool(json.loads(stored) == json.loads(wanted))
    if column == "co_units":
        return list(stored) == list(wanted)
    return bool(stored == wanted)
