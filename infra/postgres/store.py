"""AsyncpgTicketStore: the PostgreSQL projection of `tickets.events`. All its SQL lives here."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Any

import asyncpg

from agents.ports import StoreUnavailable, TicketLog, Unfoldable, Unstorable
from domain.jurisdiction import Jurisdiction
from domain.ticket import FoldError, TicketState
from domain.ticket.fold import fold
from infra.postgres.migrate import migrate
from infra.postgres.store_records import (
    record_dead_letters,
    record_rejections,
    record_side_tables,
    store_jurisdiction,
)
from schemas.dead_letters import DeadLetter
from schemas.events import TICKET_EVENT, TicketEvent
from schemas.rejections import AppealRejected

_INSERT_EVENTS = """
INSERT INTO ticket_events (event_id, ticket_id, version, type, occurred_at, payload)
SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::timestamptz[], $6::jsonb[])
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id
"""
_STORED_EVENTS = "SELECT event_id, payload FROM ticket_events WHERE event_id = ANY($1::text[])"
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
log = logging.getLogger(__name__)
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

    def __init__(
        self, dsn: str, jurisdiction: Jurisdiction | None = None, log: TicketLog | None = None
    ) -> None:
        self._dsn = dsn
        self._log = log  # where a ticket's missing events are re-read from (None: refused instead)
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
        except (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError) as exc:
            # A value PostgreSQL will not hold: not a passing fault; the sink finds which event.
            raise Unstorable(f"{type(exc).__name__}: {exc}") from exc

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

    async def record_dead_letters(self, letters: Sequence[DeadLetter]) -> int:
        """Dead letters, idempotent on `dead_letter_id`. Raises `StoreUnavailable`."""
        if not letters:
            return 0
        pool = await self._connected()
        try:
            async with pool.acquire() as conn:
                return await record_dead_letters(conn, letters)
        except _UNAVAILABLE as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def recent_dead_letters(self, limit: int = 20) -> tuple[int, list[DeadLetter]]:
        """How many dead letters there are, and the newest `limit` of them."""
        pool = await self._connected()
        try:
            async with pool.acquire() as conn:
                total = await conn.fetchval("SELECT count(*) FROM dead_letters")
                rows = await conn.fetch(
                    "SELECT letter FROM dead_letters ORDER BY dead_at DESC LIMIT $1", limit
                )
        except _UNAVAILABLE as exc:
            raise StoreUnavailable(str(exc)) from exc
        return int(total), [DeadLetter.model_validate_json(row["letter"]) for row in rows]

    async def _record(self, conn: asyncpg.Connection, events: Sequence[TicketEvent]) -> int:
        """Hold what follows each ticket's log (`domain.ticket.consistency.accepted_log`), in order.

        The first event that does not follow, even after its ticket's missing events are
        re-read from the log, raises `Unfoldable` naming it, and the batch is rolled back."""
        states, new, old = await self._followed(conn, events)
        await self._check_written(conn, old)
        written = list(new.values())
        if not written:
            return 0
        await _write_batch(conn, written, states)
        return len(written)

    async def _followed(
        self, conn: asyncpg.Connection, events: Sequence[TicketEvent]
    ) -> tuple[dict[str, TicketState], dict[tuple[str, int], TicketEvent], list[tuple[int, TicketEvent]]]:
        """Fold the batch onto its tickets' locked states: (the states after it, the events new to
        the store by ticket and version, the events of versions held before with their index)."""
        ids = list(dict.fromkeys(event.ticket_id for event in events))
        rows = await conn.fetch(_LOCK_TICKETS, ids)
        states = {row["ticket_id"]: TicketState.model_validate_json(row["state"]) for row in rows}
        new: dict[tuple[str, int], TicketEvent] = {}
        old: list[tuple[int, TicketEvent]] = []
        for index, event in enumerate(events):
            state = states.get(event.ticket_id)
            expected = 1 if state is None else state.version + 1
            if event.version < expected:
                held = new.get((event.ticket_id, event.version))
                if held is None:
                    old.append((index, event))  # written before: a replay after a restart
                elif held != event:
                    raise Unfoldable(
                        f"version {event.version} again, unlike the one held", event.event_id, index
                    )
                continue
            if event.version > expected:
                for missing in await self._missing(event, expected, index):
                    state = fold(state, missing)
                    new[(missing.ticket_id, missing.version)] = missing
            try:
                state = fold(state, event)
            except FoldError as exc:
                raise Unfoldable(str(exc), event.event_id, index) from exc
            states[event.ticket_id] = state
            new[(event.ticket_id, event.version)] = event
        return states, new, old

    async def _missing(self, event: TicketEvent, expected: int, index: int) -> list[TicketEvent]:
        """The ticket's events `expected`… before `event`, re-read from the log (a store that lost
        them: restored from a backup, failed over); `Unfoldable` when the log has no such run."""
        held = list(await self._log.held_events(event.ticket_id)) if self._log is not None else []
        versions = {e.version: e for e in held}
        # The log holds this very event at its version, and every version before it: else refused
        # (checked before the run is built: a broken writer's version may be huge).
        follows = versions.get(event.version) == event and event.version - expected <= len(held)
        run = [versions.get(v) for v in range(expected, event.version)] if follows else []
        if not follows or any(e is None for e in run):
            raise Unfoldable(
                f"{event.ticket_id}: event version {event.version} after {expected - 1}, "
                "and the log does not hold the versions between",
                event.event_id,
                index,
            )
        log.warning(
            "ticket %s: versions %d-%d re-read from the log", event.ticket_id, expected, event.version - 1
        )
        return [e for e in run if e is not None]

    async def _check_written(self, conn: asyncpg.Connection, old: list[tuple[int, TicketEvent]]) -> None:
        """Events of versions already held must be those held (a replay), not another writer's."""
        if not old:
            return
        rows = await conn.fetch(_STORED_EVENTS, [event.event_id for _, event in old])
        stored = {row["event_id"]: row["payload"] for row in rows}
        for index, event in old:
            payload = stored.get(event.event_id)
            if payload is None or TICKET_EVENT.validate_json(payload) != event:
                raise Unfoldable(f"version {event.version} again, unlike the one held", event.event_id, index)

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
        """The newest open tickets' columns, and each whole ticket as `state` (a `TicketState`):
        what of its appeal may be shown is the domain's to say (`domain.privacy.masking.shown_text`)."""
        pool = await self._connected()
        rows = await pool.fetch(
            "SELECT ticket_id, status, category, urgency, town, lead_unit, received_at, state FROM tickets"
            " WHERE status IN ('dispatched', 'manual', 'received') ORDER BY received_at DESC LIMIT $1",
            limit,
        )
        return [dict(row) | {"state": TicketState.model_validate_json(row["state"])} for row in rows]

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


async def _write_batch(
    conn: asyncpg.Connection, written: list[TicketEvent], states: dict[str, TicketState]
) -> None:
    """Insert the new events, upsert their tickets' rows and fill the side tables."""
    await conn.execute(_INSERT_EVENTS, *_event_columns(written))
    changed = {event.ticket_id for event in written}
    dispatched: dict[str, Any] = {}
    for event in written:
        if event.type == "ticket_dispatched" and event.ticket_id not in dispatched:
            dispatched[event.ticket_id] = event.occurred_at
    upserts = [(*ticket_row(states[t]), dispatched.get(t)) for t in changed]
    # One prepared statement for the whole batch: asyncpg pipelines executemany.
    await conn.executemany(_UPSERT_TICKET, upserts)
    await record_side_tables(conn, written)


def _event_columns(events: Sequence[TicketEvent]) -> list[list[Any]]:
    """The events as columns for `_INSERT_EVENTS`' unnest."""
    return [
        [e.event_id for e in events],
        [e.ticket_id for e in events],
        [e.version for e in events],
        [e.type for e in events],
        [e.occurred_at for e in events],
        [e.model_dump_json() for e in events],
    ]


async def rewrite_ticket(conn: asyncpg.Connection, ticket_id: str, events: Sequence[TicketEvent]) -> None:
    """Replace everything the store holds of one ticket with `events` (its log, as held)."""
    for table in ("ticket_callbacks", "whistle_units", "ticket_events", "tickets"):
        await conn.execute(f"DELETE FROM {table} WHERE ticket_id = $1", ticket_id)  # noqa: S608 - fixed names
    if not events:
        return
    state = None
    for event in events:
        state = fold(state, event)
    assert state is not None
    await conn.execute(_INSERT_EVENTS, *_event_columns(events))
    dispatched = next((e.occurred_at for e in events if e.type == "ticket_dispatched"), None)
    await conn.execute(_UPSERT_TICKET, *ticket_row(state), dispatched)
    await record_side_tables(conn, events)
