"""AsyncpgTicketStore: the PostgreSQL projection of `tickets.events`. All its SQL lives here."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import asyncpg

from agents.ports import StoreUnavailable
from domain.jurisdiction import Jurisdiction
from domain.ticket import TicketState, fold
from infra.migrate import migrate
from infra.store_records import record_rejections, record_side_tables, store_jurisdiction
from schemas.events import TicketEvent
from schemas.rejections import AppealRejected

_INSERT_EVENTS = """
INSERT INTO ticket_events (event_id, ticket_id, version, type, occurred_at, payload)
SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::timestamptz[], $6::jsonb[])
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id
"""
_LOCK_TICKETS = "SELECT ticket_id, state FROM tickets WHERE ticket_id = ANY($1::text[]) FOR UPDATE"
_UPSERT_TICKET = """
INSERT INTO tickets (ticket_id, version, status, channel, appeal_type, category, urgency, town,
                     lead_unit, co_units, received_at, updated_at, state,
                     signed_at, completed_at, closed_at, resolution, satisfaction, rework_count, merged_into,
                     returns, extensions, limits, flags, dispatched_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $14, $15, $16, $17, $18, $19, $20,
        $21, $22, $23::jsonb, $24, $25)
ON CONFLICT (ticket_id) DO UPDATE SET
    version = EXCLUDED.version, status = EXCLUDED.status, category = EXCLUDED.category,
    urgency = EXCLUDED.urgency, town = EXCLUDED.town, lead_unit = EXCLUDED.lead_unit,
    co_units = EXCLUDED.co_units, updated_at = EXCLUDED.updated_at, state = EXCLUDED.state,
    signed_at = EXCLUDED.signed_at, completed_at = EXCLUDED.completed_at, closed_at = EXCLUDED.closed_at,
    resolution = EXCLUDED.resolution, satisfaction = EXCLUDED.satisfaction,
    rework_count = EXCLUDED.rework_count, merged_into = EXCLUDED.merged_into,
    returns = EXCLUDED.returns, extensions = EXCLUDED.extensions, limits = EXCLUDED.limits,
    flags = EXCLUDED.flags, dispatched_at = COALESCE(tickets.dispatched_at, EXCLUDED.dispatched_at)
"""
_UNAVAILABLE = (
    OSError,  # refused, reset, timed out (TimeoutError is one)
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    # The server shutting down or starting up (admin/crash shutdown, cannot connect now).
    asyncpg.exceptions.OperatorInterventionError,
)


# The failures that mean "the database is not reachable now", for other modules of infra.
UNAVAILABLE_ERRORS = _UNAVAILABLE


class AsyncpgTicketStore:
    """Writes events once (idempotent on event_id) and keeps `tickets` equal to their fold."""

    def __init__(self, dsn: str, jurisdiction: Jurisdiction | None = None) -> None:
        self._dsn = dsn
        self._jurisdiction = jurisdiction  # its units and towns are loaded on connecting
        self._pool: asyncpg.Pool | None = None
        # Two first callers at once (the control room's snapshot and a request) must not each
        # create a pool: the one overwritten would never be closed.
        self._connecting = asyncio.Lock()

    async def _connected(self) -> asyncpg.Pool:
        if self._pool is not None:
            return self._pool
        async with self._connecting:
            return await self._connect()

    async def _connect(self) -> asyncpg.Pool:
        if self._pool is None:
            try:
                pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=4, command_timeout=30)
                async with pool.acquire() as conn:
                    await migrate(conn)
                    if self._jurisdiction is not None:
                        await store_jurisdiction(conn, self._jurisdiction)
            except _UNAVAILABLE as exc:
                raise StoreUnavailable(str(exc)) from exc
            self._pool = pool
        return self._pool

    async def pool(self) -> asyncpg.Pool:
        """The store's pool (connected and migrated on first use), shared with read-only queries."""
        return await self._connected()

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def record(self, events: Sequence[TicketEvent]) -> int:
        if not events:
            return 0
        pool = await self._connected()
        try:
            async with pool.acquire() as conn, conn.transaction():
                return await self._record(conn, events)
        except _UNAVAILABLE as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def record_rejections(self, rejections: Sequence[AppealRejected]) -> int:
        """Rejected intake records, idempotent on `rejection_id`. Raises `StoreUnavailable`."""
        if not rejections:
            return 0
        pool = await self._connected()
        try:
            async with pool.acquire() as conn:
                return await record_rejections(conn, rejections)
        except _UNAVAILABLE as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def _record(self, conn: asyncpg.Connection, events: Sequence[TicketEvent]) -> int:
        columns: list[list[Any]] = [[], [], [], [], [], []]
        for event in events:
            for column, value in zip(
                columns,
                (
                    event.event_id,
                    event.ticket_id,
                    event.version,
                    event.type,
                    event.occurred_at,
                    event.model_dump_json(),
                ),
                strict=True,
            ):
                column.append(value)
        inserted = {row["event_id"] for row in await conn.fetch(_INSERT_EVENTS, *columns)}
        new_by_ticket: dict[str, list[TicketEvent]] = defaultdict(list)
        for event in events:
            if event.event_id in inserted:
                new_by_ticket[event.ticket_id].append(event)
        if new_by_ticket:
            await self._project(conn, new_by_ticket)
            await record_side_tables(conn, [e for e in events if e.event_id in inserted])
        return len(inserted)

    async def _project(self, conn: asyncpg.Connection, new_by_ticket: dict[str, list[TicketEvent]]) -> None:
        rows = await conn.fetch(_LOCK_TICKETS, list(new_by_ticket))
        states = {row["ticket_id"]: TicketState.model_validate_json(row["state"]) for row in rows}
        upserts = []
        for ticket_id, events in new_by_ticket.items():
            state = states.get(ticket_id)
            for event in sorted(events, key=lambda e: e.version):
                if state is None or event.version > state.version:
                    state = fold(state, event)
            if state is not None:
                dispatched = min(
                    (e.occurred_at for e in events if e.type == "ticket_dispatched"), default=None
                )
                upserts.append((*ticket_row(state), dispatched))
        # One prepared statement for the whole batch: asyncpg pipelines executemany.
        await conn.executemany(_UPSERT_TICKET, upserts)

    # --- queries for the control room -------------------------------------------------

    async def open_tickets_by_unit(self) -> list[dict[str, Any]]:
        pool = await self._connected()
        rows = await pool.fetch(
            "SELECT lead_unit, status, count(*) AS n FROM tickets"
            " WHERE status IN ('dispatched', 'manual', 'received') GROUP BY lead_unit, status"
            " ORDER BY n DESC, lead_unit"
        )
        return [dict(row) for row in rows]

    async def recent_open_tickets(self, limit: int = 50) -> list[dict[str, Any]]:
        pool = await self._connected()
        rows = await pool.fetch(
            "SELECT ticket_id, status, category, urgency, town, lead_unit, received_at,"
            " state->'appeal'->>'text' AS text FROM tickets"
            " WHERE status IN ('dispatched', 'manual', 'received') ORDER BY received_at DESC LIMIT $1",
            limit,
        )
        return [dict(row) for row in rows]

    async def ping(self) -> bool:
        try:
            pool = await self._connected()
            return bool(await pool.fetchval("SELECT 1") == 1)
        except StoreUnavailable:
            return False


def ticket_row(state: TicketState) -> tuple[Any, ...]:
    triage = state.triage
    own = state.callback(state.appeal.intake_key)
    return (
        state.ticket_id,
        state.version,
        state.status.value,
        state.appeal.channel,
        triage.appeal_type,
        state.category or triage.category,
        triage.urgency,
        state.town if state.category is not None else triage.town,
        state.lead,
        list(state.co),
        state.received_at,
        state.updated_at,
        state.model_dump_json(),
        state.signed_at,
        state.completed_at,
        state.closed_at,
        state.resolution,
        own.outcome if own is not None and own.final else None,
        state.rework_count,
        state.merged_into,
        len(state.returned_by),
        len(state.extensions),
        json.dumps([c.model_dump(mode="json") for c in state.clocks]),
        sorted({mark.value for clock in state.clocks for mark in clock.fired}),
    )
