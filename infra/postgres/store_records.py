"""The store's side tables, written in the sink's transaction: callbacks, whistles,
rejections, and the jurisdiction's units and towns. Multi-row, idempotent SQL only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from domain.jurisdiction import Jurisdiction
from schemas.dead_letters import DeadLetter
from schemas.events import CallbackRecorded, TicketEvent, UnitReportedIn, WhistleBlown
from schemas.rejections import AppealRejected

_INSERT_CALLBACKS = """
INSERT INTO ticket_callbacks (event_id, ticket_id, citizen, outcome, solved, attempt, final, operator,
                              occurred_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::int[], $7::boolean[],
                     $8::text[], $9::timestamptz[])
ON CONFLICT (event_id) DO NOTHING
"""
_INSERT_WHISTLED = """
INSERT INTO whistle_units (whistle_id, unit, ticket_id, town, triggered_by, reason, called_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::timestamptz[])
ON CONFLICT (whistle_id, unit) DO NOTHING
"""
_REPORTED_IN = """
UPDATE whistle_units w SET reported_at = r.at
FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS r(whistle_id, unit, at)
WHERE w.whistle_id = r.whistle_id AND w.unit = r.unit AND w.reported_at IS NULL
"""
_INSERT_REJECTIONS = """
INSERT INTO appeal_rejections (rejection_id, reason, message, key, key_encoding, key_truncated, original,
                               original_encoding, original_length, original_sha256, original_truncated,
                               source_topic, source_partition, source_offset, rejected_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[], $7::text[],
                     $8::text[], $9::bigint[], $10::text[], $11::boolean[],
                     $12::text[], $13::int[], $14::bigint[], $15::timestamptz[])
ON CONFLICT (rejection_id) DO NOTHING
RETURNING rejection_id
"""
_UPSERT_TOWNS = """
INSERT INTO jurisdiction_towns (code, name, kind, jurisdiction, version)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind,
    jurisdiction = EXCLUDED.jurisdiction, version = EXCLUDED.version, loaded_at = now()
"""
_UPSERT_UNITS = """
INSERT INTO jurisdiction_units (code, name, kind, role, jurisdiction, version)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, role = EXCLUDED.role,
    jurisdiction = EXCLUDED.jurisdiction, version = EXCLUDED.version, loaded_at = now()
"""


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows as columns, for `unnest`: one round trip whatever the batch size."""
    return [[row[i] for row in rows] for i in range(width)]


async def record_side_tables(conn: asyncpg.Connection, new_events: Sequence[TicketEvent]) -> None:
    """Callbacks and whistles of events written for the first time."""
    callbacks = [
        (
            e.event_id,
            e.ticket_id,
            e.citizen,
            e.outcome,
            e.solved,
            e.attempt,
            e.final,
            e.operator,
            e.occurred_at,
        )
        for e in new_events
        if isinstance(e, CallbackRecorded)
    ]
    if callbacks:
        await conn.execute(_INSERT_CALLBACKS, *_columns(callbacks, 9))
    whistled = [
        (e.whistle_id, unit, e.ticket_id, e.town, e.trigger, e.reason, e.occurred_at)
        for e in new_events
        if isinstance(e, WhistleBlown)
        for unit in e.units
    ]
    if whistled:
        await conn.execute(_INSERT_WHISTLED, *_columns(whistled, 7))
    reported = [(e.whistle_id, e.unit, e.occurred_at) for e in new_events if isinstance(e, UnitReportedIn)]
    if reported:
        await conn.execute(_REPORTED_IN, *_columns(reported, 3))


async def record_rejections(conn: asyncpg.Connection, rejections: Sequence[AppealRejected]) -> int:
    """Rejected intake records, once each (by `rejection_id`); returns how many were new."""
    rows = [
        (
            r.rejection_id,
            r.reason,
            r.message,
            r.key,
            r.key_encoding,
            r.key_truncated,
            r.original,
            r.original_encoding,
            r.original_length,
            r.original_sha256,
            r.original_truncated,
            r.source.topic,
            r.source.partition,
            r.source.offset,
            r.rejected_at,
        )
        for r in rejections
    ]
    return len(await conn.fetch(_INSERT_REJECTIONS, *_columns(rows, 15))) if rows else 0


async def store_jurisdiction(conn: asyncpg.Connection, jurisdiction: Jurisdiction) -> None:
    """The jurisdiction's towns and units, as loaded now (a newer file updates them in place)."""
    code, version = jurisdiction.code, jurisdiction.version
    towns = [(t.code, t.name, t.kind, code, version) for t in jurisdiction.towns]
    units = [(u.code, u.name, "department", u.role, code, version) for u in jurisdiction.units]
    units += [(t.code, t.name, "town", "", code, version) for t in jurisdiction.towns]
    async with conn.transaction():
        await conn.execute(_UPSERT_TOWNS, *_columns(towns, 5))
        await conn.execute(_UPSERT_UNITS, *_columns(units, 6))


async def store_jurisdiction_at(database_url: str, jurisdiction: Jurisdiction) -> None:
    """`store_jurisdiction` on a connection of its own: for `shaobao migrate`."""
    conn = await asyncpg.connect(database_url)
    try:
        await store_jurisdiction(conn, jurisdiction)
    finally:
        await conn.close()


_INSERT_DEAD_LETTERS = """
INSERT INTO dead_letters (dead_letter_id, agent, reason, error_class, error, source_topic, source_partition,
                          source_offset, value_length, value_sha256, truncated, dead_at, letter)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],
                     $8::bigint[], $9::bigint[], $10::text[], $11::boolean[], $12::timestamptz[],
                     $13::jsonb[])
ON CONFLICT (dead_letter_id) DO NOTHING
RETURNING dead_letter_id
"""


async def record_dead_letters(conn: asyncpg.Connection, letters: Sequence[DeadLetter]) -> int:
    """Dead letters, idempotent on `dead_letter_id`; returns how many were new."""
    rows = [
        (
            d.dead_letter_id,
            d.agent,
            d.reason,
            d.error_class,
            d.error,
            d.source.topic,
            d.source.partition,
            d.source.offset,
            d.value_length,
            d.value_sha256,
            d.truncated,
            d.dead_at,
            d.model_dump_json(),
        )
        for d in letters
    ]
    return len(await conn.fetch(_INSERT_DEAD_LETTERS, *_columns(rows, 13)))
