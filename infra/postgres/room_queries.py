"""AsyncpgRoomQueries: the control room's start-up snapshot, reloads and ticket timelines.

The snapshot's tickets and today's event counts are read in one REPEATABLE READ
transaction, so they describe the same instant of the projection.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import TypeAdapter

from agents.ports import StoreUnavailable
from domain.room import RoomTicket, completed_on_time
from domain.ticket import OPEN_STATUSES, TicketState
from infra.postgres.store import UNAVAILABLE_ERRORS, AsyncpgTicketStore
from schemas.dead_letters import DeadLetter
from schemas.limits import Clock

# Why a ticket waits for a person, and the clocks that ran just before its last completion
# (the last event before it that set them), to tell whether it was completed in time.
_ROOM_TICKETS = """
SELECT t.state, q.reason AS manual_reason, k.clocks AS clocks_before_completion
FROM tickets t
LEFT JOIN LATERAL (
    SELECT b.payload->'clocks' AS clocks
    FROM ticket_events c JOIN ticket_events b ON b.ticket_id = c.ticket_id AND b.version < c.version
    WHERE c.ticket_id = t.ticket_id AND c.type = 'ticket_completed'
      AND jsonb_typeof(b.payload->'clocks') = 'array'
    ORDER BY c.version DESC, b.version DESC LIMIT 1
) k ON t.completed_at IS NOT NULL
LEFT JOIN LATERAL (
    SELECT e.payload->>'reason' AS reason FROM ticket_events e
    WHERE e.ticket_id = t.ticket_id AND e.type = 'ticket_queued_for_manual_dispatch'
    ORDER BY e.version DESC LIMIT 1
) q ON true
"""
_SNAPSHOT = _ROOM_TICKETS + "WHERE t.status = ANY($1::text[]) OR t.updated_at >= $2"
_BY_IDS = _ROOM_TICKETS + "WHERE t.ticket_id = ANY($1::text[])"
_TODAY = "SELECT type, count(*) AS n FROM ticket_events WHERE occurred_at >= $1 GROUP BY type"
_CLOCKS: TypeAdapter[tuple[Clock, ...]] = TypeAdapter(tuple[Clock, ...])
_TIMELINE = "SELECT payload FROM ticket_events WHERE ticket_id = $1 ORDER BY version"


class AsyncpgRoomQueries:
    def __init__(self, store: AsyncpgTicketStore) -> None:
        self._store = store

    async def snapshot(self, day_start: datetime) -> tuple[list[RoomTicket], Counter[str]]:
        """Every open ticket and every ticket touched since `day_start`; today's event counts."""
        pool = await self._store.pool()
        try:
            async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
                rows = await conn.fetch(_SNAPSHOT, sorted(s.value for s in OPEN_STATUSES), day_start)
                counts = await conn.fetch(_TODAY, day_start)
        except UNAVAILABLE_ERRORS as exc:
            raise StoreUnavailable(str(exc)) from exc
        return [_room_ticket(row) for row in rows], Counter({r["type"]: r["n"] for r in counts})

    async def tickets(self, ticket_ids: Sequence[str]) -> list[RoomTicket]:
        return [_room_ticket(row) for row in await self._fetch(_BY_IDS, list(ticket_ids))]

    async def timeline(self, ticket_id: str) -> list[str]:
        """The ticket's events as recorded, oldest first, each as its JSON."""
        return [str(row["payload"]) for row in await self._fetch(_TIMELINE, ticket_id)]

    async def dead_letters(self, limit: int = 20) -> tuple[int, list[DeadLetter]]:
        """How many messages the agents set aside, and the newest `limit` (the ops panel)."""
        return await self._store.recent_dead_letters(limit)

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        pool = await self._store.pool()
        try:
            rows: list[asyncpg.Record] = await pool.fetch(sql, *args)
        except UNAVAILABLE_ERRORS as exc:
            raise StoreUnavailable(str(exc)) from exc
        return rows


def _room_ticket(row: asyncpg.Record) -> RoomTicket:
    state = TicketState.model_validate_json(row["state"])
    on_time = None
    if state.completed_at is not None and row["clocks_before_completion"] is not None:
        clocks = _CLOCKS.validate_json(row["clocks_before_completion"])
        on_time = completed_on_time(clocks, state.completed_at)
    return RoomTicket(state=state, manual_reason=row["manual_reason"], on_time=on_time)
