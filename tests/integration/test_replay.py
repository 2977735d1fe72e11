"""`tickets.events` is the source of truth: replaying it from the start into a fresh database
rebuilds exactly the current state of every ticket of the session, and replaying it again
changes nothing."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from domain.consistency import folded_tickets
from infra.store import AsyncpgTicketStore
from infra.verify import decode_events
from schemas.events import TicketEvent
from shaobao.launch import create_database
from tests.integration.conftest import Stack
from tests.integration.kafkatools import eventually, read_all
from tests.integration.lifecycletools import act, control, open_ticket, row_at

pytestmark = pytest.mark.integration
COLUMNS = (
    "ticket_id, version, status, channel, appeal_type, category, urgency, town, lead_unit, co_units,"
    " received_at, updated_at, state, signed_at, completed_at, closed_at, resolution, satisfaction,"
    " rework_count, merged_into"
)


async def tickets_table(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    return [dict(row) for row in await conn.fetch(f"SELECT {COLUMNS} FROM tickets ORDER BY ticket_id")]  # noqa: S608


async def test_replaying_the_event_log_into_a_fresh_table_rebuilds_every_ticket_exactly(
    stack: Stack, db: asyncpg.Connection
) -> None:
    # A ticket that goes a long way (return, redispatch, rework), besides the session's others.
    ticket = await open_ticket(stack, db)
    await act(stack, "zjj", ticket, "return", suggested_unit="cgj")
    await row_at(db, ticket, 3)
    await control(stack, ticket, "redispatch", reason="改派")
    await row_at(db, ticket, 4)
    await act(stack, "cgj", ticket, "sign")
    await act(stack, "cgj", ticket, "complete")
    await row_at(db, ticket, 6)
    await control(stack, ticket, "callback", outcome="dissatisfied")
    await control(stack, ticket, "rework", reason="仍未解决")
    assert (await row_at(db, ticket, 8))["rework_count"] == 1

    kafka = stack.settings.kafka
    # The log as the store must hold it: other tests of the session write broken records to it too.
    logged, _ = decode_events([value for _, value in await read_all(kafka, stack.names.events)])
    events: list[TicketEvent] = folded_tickets(logged)[1]
    distinct = {event.event_id for event in events}

    async def projected() -> bool:
        return bool(await db.fetchval("SELECT count(*) FROM ticket_events") == len(distinct))

    await eventually(projected)  # the live projection has caught up with the log
    live = await tickets_table(db)
    assert any(row["ticket_id"] == ticket for row in live)

    fresh_url = await create_database(stack.settings.database_url, f"replay_{ticket.replace('-', '_')}")
    store = AsyncpgTicketStore(fresh_url)
    try:
        assert await store.record(events) == len(distinct) == len(events)
        assert await store.record(events) == 0  # the same log again: nothing new
        fresh = await asyncpg.connect(fresh_url)
        try:
            rebuilt = await tickets_table(fresh)
        finally:
            await fresh.close()
    finally:
        await store.close()
    assert rebuilt == live
