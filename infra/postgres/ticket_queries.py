"""AsyncpgTicketQueries: read-only lookups of the `tickets` projection for the HTTP front doors."""

from __future__ import annotations

from typing import Any

import asyncpg

from agents.ports import StoreUnavailable
from domain.open311 import CLOSED_STATUSES, RequestQuery
from domain.ticket import TicketState
from infra.postgres.store import UNAVAILABLE_ERRORS, AsyncpgTicketStore

_BY_TICKET_ID = "SELECT state FROM tickets WHERE ticket_id = $1"
# Served by the index tickets_by_intake_key (0002): `channel` is the appeal's channel.
_BY_INTAKE_KEY = "SELECT state FROM tickets WHERE channel = $1 AND state->'appeal'->>'source_id' = $2"
# The category as dispatched (state.category, which a person may correct) before the router's.
_FIND = """
SELECT state FROM tickets
WHERE (cardinality($1::text[]) = 0 OR ticket_id = ANY($1::text[]))
  AND (cardinality($2::text[]) = 0 OR coalesce(state->>'category', category) = ANY($2::text[]))
  AND ($3::timestamptz IS NULL OR received_at >= $3)
  AND ($4::timestamptz IS NULL OR received_at <= $4)
  AND ($5::boolean IS NULL OR (status = ANY($6::text[])) = $5)
ORDER BY received_at DESC, ticket_id
LIMIT $7 OFFSET $8
"""


class AsyncpgTicketQueries:
    """Tickets as their folded state, read through the store's pool. Raises `StoreUnavailable`."""

    def __init__(self, store: AsyncpgTicketStore) -> None:
        self._store = store

    async def by_ticket_id(self, ticket_id: str) -> TicketState | None:
        rows = await self._fetch(_BY_TICKET_ID, ticket_id)
        return rows[0] if rows else None

    async def by_intake_key(self, channel: str, source_id: str) -> TicketState | None:
        """The ticket opened for `channel:source_id`; None until the pipeline has recorded it."""
        rows = await self._fetch(_BY_INTAKE_KEY, channel, source_id)
        return rows[0] if rows else None

    async def find(self, query: RequestQuery) -> list[TicketState]:
        """Newest first, at most `query.limit`."""
        closed = None if query.status is None else query.status == "closed"
        return await self._fetch(
            _FIND,
            list(query.ticket_ids),
            list(query.service_codes),
            query.received_from,
            query.received_to,
            closed,
            sorted(CLOSED_STATUSES),
            query.limit,
            query.offset,
        )

    async def _fetch(self, sql: str, *args: Any) -> list[TicketState]:
        pool = await self._store.pool()
        try:
            rows: list[asyncpg.Record] = await pool.fetch(sql, *args)
        except UNAVAILABLE_ERRORS as exc:
            raise StoreUnavailable(str(exc)) from exc
        return [TicketState.model_validate_json(row["state"]) for row in rows]
