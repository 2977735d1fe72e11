"""the dispatch meeting list from PostgreSQL, and its record there. All its SQL lives here."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import asyncpg

from agents.ports import StoreUnavailable
from domain.jurisdiction import Jurisdiction
from domain.reporting import (
    ListedTicket,
    MeetingList,
    UnitOverdue,
    previous_dispatch_day,
    render,
)

_CLOSED = ("closed", "instant", "transferred")
_SUPERVISED = """
SELECT t.ticket_id, t.category, t.town, t.lead_unit, t.status,
       string_agg(DISTINCT e.payload->>'clock', ',') AS clocks, min(e.occurred_at) AS since
FROM tickets t JOIN ticket_events e ON e.ticket_id = t.ticket_id AND e.type = 'ticket_supervised'
WHERE t.status <> ALL($1::text[]) AND e.occurred_at < $2
GROUP BY t.ticket_id ORDER BY since LIMIT $3
"""
_CLUSTERS = """
SELECT ticket_id, category, town, lead_unit, status,
       jsonb_array_length(state->'citizens') + 1 AS citizens
FROM tickets
WHERE status <> ALL($1::text[]) AND jsonb_array_length(state->'citizens') > 0 AND received_at < $2
ORDER BY citizens DESC, ticket_id LIMIT $3
"""
# Dissatisfied more than once: reworked twice, or reworked and dissatisfied again.
_DISSATISFIED = """
SELECT ticket_id, category, town, lead_unit, status, rework_count
FROM tickets
WHERE status <> ALL($1::text[]) AND rework_count + (status = 'dissatisfied')::int >= 2 AND received_at < $2
ORDER BY rework_count DESC, ticket_id LIMIT $3
"""
_UNITS_OVERDUE = """
SELECT payload->>'unit' AS unit, count(*) AS overdue
FROM ticket_events
WHERE type = 'limit_overdue' AND payload->>'unit' IS NOT NULL AND occurred_at >= $1 AND occurred_at < $2
GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $3
"""
_RECORD = """
INSERT INTO leadership_lists (meeting_date, since, jurisdiction, compiled_at, counts, payload, report)
VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7)
ON CONFLICT (meeting_date) DO UPDATE SET
    since = EXCLUDED.since, jurisdiction = EXCLUDED.jurisdiction, compiled_at = EXCLUDED.compiled_at,
    counts = EXCLUDED.counts, payload = EXCLUDED.payload, report = EXCLUDED.report
"""
LIMIT = 50


def _local_midnight(day: date, jurisdiction: Jurisdiction) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(jurisdiction.timezone)).astimezone(UTC)


async def compile_list(
    conn: asyncpg.Connection, meeting: date, jurisdiction: Jurisdiction, now: datetime
) -> MeetingList:
    """What is outstanding for the meeting on `meeting`, as the record stands at `now`; overdue
    limits are counted from the previous meeting day to `now`."""
    since = previous_dispatch_day(meeting, jurisdiction)
    start = _local_midnight(since, jurisdiction)
    supervised = [
        _listed(row, f"督办（{row['clocks']}），自 {row['since'].date().isoformat()}")
        for row in await conn.fetch(_SUPERVISED, list(_CLOSED), now, LIMIT)
    ]
    clusters = [
        _listed(row, f"{row['citizens']} 位市民反映")
        for row in await conn.fetch(_CLUSTERS, list(_CLOSED), now, LIMIT)
    ]
    dissatisfied = [
        _listed(row, f"已发回重办 {row['rework_count']} 次")
        for row in await conn.fetch(_DISSATISFIED, list(_CLOSED), now, LIMIT)
    ]
    units = [
        UnitOverdue(unit=row["unit"], overdue=row["overdue"])
        for row in await conn.fetch(_UNITS_OVERDUE, start, now, 10)
    ]
    return MeetingList(
        meeting_date=meeting,
        since=since,
        compiled_at=now,
        supervised=tuple(supervised),
        clusters=tuple(clusters),
        repeated_dissatisfaction=tuple(dissatisfied),
        units_most_overdue=tuple(units),
    )


async def record_list(conn: asyncpg.Connection, listing: MeetingList, jurisdiction: Jurisdiction) -> None:
    """Keep the list (replacing an earlier compilation for the same meeting)."""
    await conn.execute(
        _RECORD,
        listing.meeting_date,
        listing.since,
        jurisdiction.code,
        listing.compiled_at,
        json.dumps(listing.counts),
        listing.model_dump_json(),
        render(listing, jurisdiction),
    )


def _listed(row: asyncpg.Record, detail: str) -> ListedTicket:
    return ListedTicket(
        ticket_id=row["ticket_id"],
        category=row["category"],
        town=row["town"],
        lead=row["lead_unit"],
        status=row["status"],
        detail=detail,
    )


async def has_list(conn: asyncpg.Connection, meeting: date) -> bool:
    return bool(await conn.fetchval("SELECT 1 FROM leadership_lists WHERE meeting_date = $1", meeting))


class AsyncpgMeetingLists:
    """The worker's lists on the ticket store's pool; one compilation per meeting day."""

    def __init__(self, pool: Callable[[], Awaitable[asyncpg.Pool]], jurisdiction: Jurisdiction) -> None:
        self._pool, self._jurisdiction = pool, jurisdiction

    async def compile_once(self, meeting: date, now: datetime) -> MeetingList | None:
        try:
            pool = await self._pool()
            async with pool.acquire() as conn, conn.transaction():
                # One compiler at a time per meeting, even across a rebalance's two leaders.
                await conn.execute(
                    "SELECT pg_advisory_xact_lock(hashtext('leadership:' || $1))", meeting.isoformat()
                )
                if await has_list(conn, meeting):
                    return None
                listing = await compile_list(conn, meeting, self._jurisdiction, now)
                await record_list(conn, listing, self._jurisdiction)
                return listing
        except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError) as exc:
            raise StoreUnavailable(str(exc)) from exc
