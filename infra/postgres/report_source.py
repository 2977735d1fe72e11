"""The ticket logs a report needs, read from PostgreSQL's event log.

A report of a period needs every ticket that was received before its end and still
mattered after the start of its trend window: received within it, or not closed before
it (open tickets feed the outstanding problems list)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import asyncpg

from schemas.events import TICKET_EVENT, TicketEvent
from schemas.kb import KbEntry

_LOGS = """
SELECT e.ticket_id, e.payload FROM ticket_events e JOIN tickets t USING (ticket_id)
WHERE t.received_at < $2 AND (t.received_at >= $1 OR t.closed_at IS NULL OR t.closed_at >= $1)
ORDER BY e.ticket_id, e.version
"""


async def read_logs(pool: asyncpg.Pool, since: datetime, until: datetime) -> list[list[TicketEvent]]:
    """Each such ticket's events, oldest first."""
    logs: dict[str, list[TicketEvent]] = defaultdict(list)
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        async for row in conn.cursor(_LOGS, since, until, prefetch=2000):
            logs[row["ticket_id"]].append(TICKET_EVENT.validate_json(row["payload"]))
    return list(logs.values())


_KB = "SELECT entry_id, body FROM kb_entries WHERE retired_at IS NULL"


async def read_kb(pool: asyncpg.Pool) -> dict[str, KbEntry]:
    """The knowledge base's entries still offered at the desk, by id."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(_KB)
    return {row["entry_id"]: KbEntry.model_validate_json(row["body"]) for row in rows}
