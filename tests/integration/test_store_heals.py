"""The store heals from the log, and refuses what does not follow it (issue 13, items 1 and 5).

A store that lost a ticket's events (restored from a backup, failed over behind the log)
gets them back from `tickets.events` when the ticket's next event arrives; events written
to `tickets.events` by a broken writer (a gap, a second unequal copy of a version, bytes
that are no event) are dead letters, and the sink goes on; `shaobao verify --repair`
rewrites a row edited by hand.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest

from tests.integration.clitools import shaobao
from tests.integration.conftest import Stack
from tests.integration.kafkatools import eventually, read_all
from tests.integration.lifecycletools import act, open_ticket
from tests.integration.topictools import produce_placed

pytestmark = pytest.mark.integration


async def stored_versions(db: asyncpg.Connection, ticket: str) -> list[int]:
    rows = await db.fetch("SELECT version FROM ticket_events WHERE ticket_id = $1 ORDER BY version", ticket)
    return [row["version"] for row in rows]


async def forget(db: asyncpg.Connection, ticket: str) -> None:
    """What a restore from last night's backup does to a ticket opened this morning."""
    for table in ("ticket_callbacks", "whistle_units", "ticket_events", "tickets"):
        await db.execute(f"DELETE FROM {table} WHERE ticket_id = $1", ticket)  # noqa: S608 - fixed names


async def differences_for(stack: Stack, tickets: set[str]) -> list[str]:
    ran = await shaobao(stack, "verify", "--limit", "100000")
    return [line for line in ran.out.splitlines() if any(t in line for t in tickets)]


async def test_a_ticket_the_store_lost_is_read_again_from_the_log_when_its_next_event_comes(
    stack: Stack, db: asyncpg.Connection
) -> None:
    ticket = await open_ticket(stack, db)
    await eventually(lambda: _at(db, ticket, 2))
    await forget(db, ticket)
    await act(stack, "zjj", ticket, "sign")

    row = await eventually(lambda: _at(db, ticket, 3))
    assert row["status"] == "signed"
    assert await stored_versions(db, ticket) == [1, 2, 3]
    assert await differences_for(stack, {ticket}) == []


async def test_events_from_a_broken_writer_are_dead_letters_and_the_sink_goes_on(
    stack: Stack, db: asyncpg.Connection
) -> None:
    ticket = await open_ticket(stack, db)
    await eventually(lambda: _at(db, ticket, 2))
    kafka = stack.settings.kafka
    events = [json.loads(v) for k, v in await read_all(kafka, stack.names.events) if k == ticket.encode()]
    dispatched = next(e for e in events if e["version"] == 2)
    gap = {**dispatched, "version": 9, "event_id": f"{ticket}:9"}
    unequal = {**dispatched, "note": "改过的副本"} if "note" in dispatched else {**dispatched, "lead": "cgj"}
    hostile = [json.dumps(gap).encode(), json.dumps(unequal).encode(), b"\xff\xfe garbage"]
    placed = await produce_placed(kafka, stack.names.events, [(ticket.encode(), v) for v in hostile])

    async def sink_letters() -> dict[int, str] | None:
        rows = await db.fetch(
            "SELECT source_offset, reason FROM dead_letters WHERE source_topic = $1"
            " AND agent = 'record_ticket_events' AND source_offset = ANY($2::bigint[])",
            stack.names.events,
            [p.offset for p in placed],
        )
        return {r["source_offset"]: r["reason"] for r in rows} if len(rows) == len(placed) else None

    letters = await eventually(sink_letters, timeout_s=30)
    assert [letters[p.offset] for p in placed] == ["unfoldable", "unfoldable", "undecodable"]
    # The sink goes on: the unit signs, and the store follows the log.
    await act(stack, "zjj", ticket, "sign")
    row = await eventually(lambda: _at(db, ticket, 3))
    assert (row["status"], row["lead_unit"]) == ("signed", "zjj")
    assert await stored_versions(db, ticket) == [1, 2, 3]
    assert await differences_for(stack, {ticket}) == []


async def test_verify_repair_rewrites_a_row_edited_by_hand_from_the_log(
    stack: Stack, db: asyncpg.Connection
) -> None:
    ticket = await open_ticket(stack, db)
    await eventually(lambda: _at(db, ticket, 2))
    await db.execute("UPDATE tickets SET status = 'closed', lead_unit = 'cgj' WHERE ticket_id = $1", ticket)
    await db.execute("DELETE FROM ticket_events WHERE ticket_id = $1 AND version = 2", ticket)
    assert len(await differences_for(stack, {ticket})) >= 2

    repaired = await shaobao(stack, "verify", "--repair", "--limit", "100000")
    assert ticket in repaired.out, repaired.out
    row = await _at(db, ticket, 2)
    assert row is not None and (row["status"], row["lead_unit"]) == ("dispatched", "zjj")
    assert await stored_versions(db, ticket) == [1, 2]
    assert await differences_for(stack, {ticket}) == []


async def _at(db: asyncpg.Connection, ticket: str, version: int) -> Any:
    row = await db.fetchrow("SELECT * FROM tickets WHERE ticket_id = $1", ticket)
    return row if row is not None and row["version"] >= version else None
