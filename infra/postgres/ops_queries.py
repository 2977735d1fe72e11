"""What ops read from the PostgreSQL projection: open tickets by status and unit, overdue
tickets by unit, recent command rejections. For the web process's `/metrics` and for
`shaobao top`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from domain.ticket import OPEN_STATUSES
from web.ports import OpsDataUnavailable

_OPEN = sorted(status.value for status in OPEN_STATUSES)
HOTLINE = "hotline"  # the unit label of limits the hotline itself runs (the callback)
_BY_STATUS = "SELECT status, count(*) AS n FROM tickets WHERE status = ANY($1::text[]) GROUP BY status"
_BY_UNIT = (
    "SELECT coalesce(lead_unit, '') AS unit, status, count(*) AS n FROM tickets"
    " WHERE status = ANY($1::text[]) GROUP BY 1, 2 ORDER BY 1, 2"
)
# A ticket counts once per unit with at least one of its running clocks past the limit
# (`fired` holds the marks reached; supervise comes after overdue); '' is the hotline's own.
_OVERDUE_BY_UNIT = (
    "SELECT coalesce(clock->>'unit', '') AS unit, count(DISTINCT t.ticket_id) AS n"
    " FROM tickets t CROSS JOIN LATERAL jsonb_array_elements(coalesce(t.state->'clocks', '[]')) AS clock"
    " WHERE t.status = ANY($1::text[]) AND clock->'fired' ? 'overdue' GROUP BY 1 ORDER BY 1"
)
_REJECTIONS = (
    "SELECT payload->>'command_type' AS command_type, count(*) AS n FROM ticket_events"
    " WHERE type = 'command_rejected' AND occurred_at > now() - make_interval(secs => $1)"
    " GROUP BY 1 ORDER BY n DESC, 1"
)


# PostgreSQL down, restarting, not migrated yet, or too slow to answer an ops read.
_UNAVAILABLE = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


@dataclass(frozen=True, slots=True)
class UnitQueue:
    unit: str  # '' for tickets no unit leads yet (manual dispatch)
    status: str
    count: int


class AsyncpgOpsQueries:
    """A small pool of its own (two connections): ops reads never wait behind the sink."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._pool: asyncpg.Pool | None = None

    async def _fetch(self, query: str, *args: Any) -> Sequence[asyncpg.Record]:
        try:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=2, command_timeout=5)
            rows: Sequence[asyncpg.Record] = await self._pool.fetch(query, *args)
        except _UNAVAILABLE as exc:
            raise OpsDataUnavailable(f"{type(exc).__name__}: {exc}") from exc
        return rows

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def open_tickets_by_status(self) -> dict[str, int]:
        rows = await self._fetch(_BY_STATUS, _OPEN)
        counts = dict.fromkeys(_OPEN, 0)  # a status with no tickets reads 0, not absent
        counts.update({row["status"]: int(row["n"]) for row in rows})
        return counts

    async def open_tickets_by_unit(self) -> list[UnitQueue]:
        rows = await self._fetch(_BY_UNIT, _OPEN)
        return [UnitQueue(row["unit"], row["status"], int(row["n"])) for row in rows]

    async def overdue_tickets_by_unit(self) -> dict[str, int]:
        """Open tickets with an overdue running limit, by the unit it runs against."""
        rows = await self._fetch(_OVERDUE_BY_UNIT, _OPEN)
        return {row["unit"] or HOTLINE: int(row["n"]) for row in rows}

    async def command_rejections(self, within_s: float = 3600.0) -> dict[str, int]:
        """Rejected commands by command type over the last `within_s` seconds."""
        rows = await self._fetch(_REJECTIONS, within_s)
        return {row["command_type"] or "?": int(row["n"]) for row in rows}
