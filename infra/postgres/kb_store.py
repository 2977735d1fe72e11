"""The knowledge base (知识库) in PostgreSQL (`kb_entries`, `kb_versions`, migration 0011), and the
web process's search index over it, reloaded when the entries change."""

from __future__ import annotations

import asyncio
import builtins
import time
from collections.abc import Callable, Mapping
from datetime import date, datetime

import asyncpg

from agents.ports import StoreUnavailable
from domain.kb import KbSearchIndex
from infra.postgres.store import UNAVAILABLE_ERRORS, AsyncpgTicketStore
from schemas.kb import KbEntry, KbMatch
from web.ports import KbChange, KbEntryNotFound, KbRecord, KbVersion, KbWrite, NotYourEntry

_COLUMNS = "entry_id, unit, body, version, updated_by, updated_at, retired_at"
_LIST = f"SELECT {_COLUMNS} FROM kb_entries WHERE retired_at IS NULL ORDER BY entry_id"  # noqa: S608
_LIST_UNIT = f"SELECT {_COLUMNS} FROM kb_entries WHERE unit = $1 AND retired_at IS NULL ORDER BY entry_id"  # noqa: S608
_GET = f"SELECT {_COLUMNS} FROM kb_entries WHERE entry_id = $1"  # noqa: S608
_LOCK = f"SELECT {_COLUMNS} FROM kb_entries WHERE entry_id = $1 FOR UPDATE"  # noqa: S608
_INSERT = f"""
INSERT INTO kb_entries (entry_id, unit, body, version, updated_by) VALUES ($1, $2, $3::jsonb, 1, $4)
ON CONFLICT (entry_id) DO NOTHING RETURNING {_COLUMNS}
"""  # noqa: S608
_UPDATE = f"""
UPDATE kb_entries SET unit = $2, body = $3::jsonb, version = version + 1, updated_by = $4,
    updated_at = now(), retired_at = NULL
WHERE entry_id = $1 RETURNING {_COLUMNS}
"""  # noqa: S608
_RETIRE = f"""
UPDATE kb_entries SET version = version + 1, updated_by = $2, updated_at = now(), retired_at = now()
WHERE entry_id = $1 RETURNING {_COLUMNS}
"""  # noqa: S608
_VERSION = """
INSERT INTO kb_versions (entry_id, version, body, changed_by, changed_at, change)
VALUES ($1, $2, $3::jsonb, $4, $5, $6)
"""
_VERSIONS = (
    "SELECT entry_id, version, body, changed_by, changed_at, change FROM kb_versions"
    " WHERE entry_id = $1 ORDER BY version"
)
# What changes when any entry is written or retired: the searched count, the latest write.
_MARK = "SELECT count(*) FILTER (WHERE retired_at IS NULL), max(updated_at) FROM kb_entries"


class AsyncpgKbStore:
    """List, get, write (a version per change), retire and version history, through the store's pool."""

    def __init__(self, store: AsyncpgTicketStore) -> None:
        self._store = store

    async def _pool(self) -> asyncpg.Pool:
        return await self._store.pool()

    async def all(self) -> list[KbRecord]:
        """Every entry not retired, by id."""
        return await self._fetch(_LIST)

    async def get(self, entry_id: str) -> KbRecord | None:
        rows: builtins.list[KbRecord] = await self._fetch(_GET, entry_id)
        return rows[0] if rows else None

    async def mark(self) -> tuple[int, datetime | None]:
        """(entries not retired, the latest write): changes whenever the searched set does."""
        pool = await self._pool()
        try:
            row = await pool.fetchrow(_MARK)
        except UNAVAILABLE_ERRORS as exc:
            raise StoreUnavailable(str(exc)) from exc
        return int(row[0]), row[1]

    async def upsert(
        self, entry: KbEntry, by: str, owner: str | None = None, imported: bool = False
    ) -> tuple[KbWrite, KbRecord]:
        body = entry.model_dump_json()
        pool = await self._pool()
        try:
            async with pool.acquire() as conn, conn.transaction():
                kept = await conn.fetchrow(_LOCK, entry.entry_id)
                if kept is None:
                    row = await conn.fetchrow(_INSERT, entry.entry_id, entry.unit, body, by)
                    if row is None:  # another writer created it since the lock found nothing
                        kept = await conn.fetchrow(_LOCK, entry.entry_id)
                if kept is not None:
                    if owner is not None and kept["unit"] != owner:
                        raise NotYourEntry(entry.entry_id)
                    if kept["retired_at"] is None and KbEntry.model_validate_json(kept["body"]) == entry:
                        return "unchanged", _record(kept)
                    row = await conn.fetchrow(_UPDATE, entry.entry_id, entry.unit, body, by)
                change: KbChange = "imported" if imported else "created" if kept is None else "updated"
                await conn.execute(
                    _VERSION, entry.entry_id, row["version"], body, by, row["updated_at"], change
                )
        except UNAVAILABLE_ERRORS as exc:
            raise StoreUnavailable(str(exc)) from exc
        return ("created" if kept is None else "updated"), _record(row)

    async def retire(self, entry_id: str, by: str, owner: str | None = None) -> KbRecord:
        pool = await self._pool()
        try:
            async with pool.acquire() as conn, conn.transaction():
                kept = await conn.fetchrow(_LOCK, entry_id)
                if kept is None:
                    raise KbEntryNotFound(entry_id)
                if owner is not None and kept["unit"] != owner:
                    raise NotYourEntry(entry_id)
                if kept["retired_at"] is not None:  # a retried DELETE: retired once
                    return _record(kept)
                row = await conn.fetchrow(_RETIRE, entry_id, by)
                await conn.execute(_VERSION, entry_id, row["version"], None, by, row["updated_at"], "retired")
        except UNAVAILABLE_ERRORS as exc:
            raise StoreUnavailable(str(exc)) from exc
        return _record(row)

    async def versions(self, entry_id: str) -> list[KbVersion]:
        pool = await self._pool()
        try:
            rows = await pool.fetch(_VERSIONS, entry_id)
        except UNAVAILABLE_ERRORS as exc:
            raise StoreUnavailable(str(exc)) from exc
        return [
            KbVersion(
                entry_id=row["entry_id"],
                version=row["version"],
                entry=None if row["body"] is None else KbEntry.model_validate_json(row["body"]),
                changed_by=row["changed_by"],
                changed_at=row["changed_at"],
                change=row["change"],
            )
            for row in rows
        ]

    async def list(self, unit: str) -> list[KbRecord]:
        """The unit's entries not retired, by id (named last: `list` in later annotations is the type)."""
        return await self._fetch(_LIST_UNIT, unit)

    async def _fetch(self, query: str, *args: object) -> builtins.list[KbRecord]:
        pool = await self._pool()
        try:
            return [_record(row) for row in await pool.fetch(query, *args)]
        except UNAVAILABLE_ERRORS as exc:
            raise StoreUnavailable(str(exc)) from exc


def _record(row: asyncpg.Record) -> KbRecord:
    return KbRecord(
        entry=KbEntry.model_validate_json(row["body"]),
        version=row["version"],
        updated_by=row["updated_by"],
        updated_at=row["updated_at"],
        retired_at=row["retired_at"],
    )


class KbIndex:
    """The web process's `KbSearcher`: every entry not retired, indexed in memory, rebuilt when
    the table's count or latest write changes, looked at no more often than every `check_every_s`."""

    def __init__(
        self,
        kb: AsyncpgKbStore,
        category_names: Mapping[str, str],
        today: Callable[[], date],
        check_every_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._kb, self._names, self._today = kb, dict(category_names), today
        self._check_every_s, self._clock = check_every_s, clock
        self._index: KbSearchIndex | None = None
        self._mark: tuple[int, datetime | None] | None = None
        self._checked_at = 0.0
        self._lock = asyncio.Lock()

    async def search(self, text: str, limit: int = 5) -> tuple[KbMatch, ...]:
        index = await self._current()
        return index.search(text, limit, today=self._today())

    async def _current(self) -> KbSearchIndex:
        if self._index is not None and self._clock() - self._checked_at < self._check_every_s:
            return self._index
        async with self._lock:  # one reload at a time; the others wait and use it
            if self._index is None or self._clock() - self._checked_at >= self._check_every_s:
                mark = await self._kb.mark()
                if self._index is None or mark != self._mark:
                    entries = [record.entry for record in await self._kb.all()]
                    # Building is CPU work (~4 ms an entry): off the event loop.
                    self._index = await asyncio.to_thread(KbSearchIndex, entries, self._names)
                    self._mark = mark
                self._checked_at = self._clock()
            return self._index
