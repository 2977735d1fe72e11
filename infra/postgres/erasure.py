"""One person's data out of PostgreSQL (`shaobao privacy erase`), and the store's retention.

Erasure rewrites, in one transaction, every ticket and recorded event that concerns the
person (`domain.privacy.erasure`), and deletes the rejected originals and dead letters that hold
their number (those are raw bytes kept for repair: nothing in them can be kept apart).
Retention deletes rejected originals and dead letters older than their documented window,
and sessions that ended or expired.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from domain.privacy import (
    DEAD_LETTERS_KEPT,
    REJECTIONS_KEPT,
    erase_event_payload,
    erase_state,
    mobile_numbers,
)
from domain.ticket import TicketState
from infra.postgres.store import AsyncpgTicketStore

_BATCH = 500


@dataclass(frozen=True)
class Erased:
    tickets: int
    events: int
    rejections: int
    dead_letters: int
    oldest: datetime | None  # the earliest appeal concerned: what the logs may hold until


Progress = Callable[[str], None]


class AsyncpgErasure:
    def __init__(self, store: AsyncpgTicketStore) -> None:
        self._store = store

    async def erase_mobile(self, mobile: str, progress: Progress = lambda _: None) -> Erased:
        """Erase the person whose mobile number (11 digits) this is; returns what changed."""
        pool = await self._store.pool()
        async with pool.acquire() as conn, conn.transaction():
            tickets, oldest, scanned = 0, None, 0
            async for row in conn.cursor(
                "SELECT ticket_id, received_at, state FROM tickets", prefetch=_BATCH
            ):
                scanned += 1
                if scanned % 10_000 == 0:
                    progress(f"tickets read: {scanned}")
                erased = erase_state(TicketState.model_validate_json(row["state"]), mobile)
                if erased is not None:
                    await conn.execute(
                        "UPDATE tickets SET state = $2 WHERE ticket_id = $1",
                        row["ticket_id"],
                        erased.model_dump_json(),
                    )
                    tickets += 1
                    oldest = row["received_at"] if oldest is None else min(oldest, row["received_at"])
            progress(f"tickets read: {scanned}, erased from {tickets}")
            events = 0
            query = (
                "SELECT event_id, payload FROM ticket_events WHERE payload ? 'appeal' OR payload ? 'citizen'"
            )
            async for row in conn.cursor(query, prefetch=_BATCH):
                payload = erase_event_payload(json.loads(row["payload"]), mobile)
                if payload is not None:
                    await conn.execute(
                        "UPDATE ticket_events SET payload = $2 WHERE event_id = $1",
                        row["event_id"],
                        json.dumps(payload),
                    )
                    events += 1
            progress(f"recorded events erased: {events}")
            rejections = await _delete_holding(conn, "appeal_rejections", "rejection_id", "original", mobile)
            letters = await _delete_holding(conn, "dead_letters", "dead_letter_id", "letter::text", mobile)
        return Erased(tickets, events, rejections, letters, oldest)

    async def apply_retention(self, now: datetime) -> dict[str, int]:
        """Delete what is past its window; returns how many rows went, by table."""
        pool = await self._store.pool()
        async with pool.acquire() as conn, conn.transaction():
            rejections = await conn.execute(
                "DELETE FROM appeal_rejections WHERE rejected_at < $1", now - REJECTIONS_KEPT
            )
            letters = await conn.execute(
                "DELETE FROM dead_letters WHERE dead_at < $1", now - DEAD_LETTERS_KEPT
            )
            sessions = await conn.execute(
                "DELETE FROM room_sessions WHERE expires_at < $1 OR ended_at IS NOT NULL", now
            )
        return {
            "appeal_rejections": _count(rejections),
            "dead_letters": _count(letters),
            "room_sessions": _count(sessions),
        }


async def _delete_holding(conn: asyncpg.Connection, table: str, key: str, column: str, mobile: str) -> int:
    """Delete the rows whose raw text holds the number in any written form (names are constants)."""
    rows = conn.cursor(f"SELECT {key}, {column} AS raw FROM {table}", prefetch=_BATCH)  # noqa: S608
    doomed = [row[key] async for row in rows if mobile in mobile_numbers(row["raw"] or "")]
    if doomed:
        await conn.execute(f"DELETE FROM {table} WHERE {key} = ANY($1::text[])", doomed)  # noqa: S608
    return len(doomed)


def _count(status: str) -> int:
    """asyncpg's `DELETE 12` → 12."""
    return int(status.rsplit(" ", 1)[-1])
