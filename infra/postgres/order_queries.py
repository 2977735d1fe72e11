"""AsyncpgOrderQueries: the tickets a unit holds now, for its "my open orders" over HTTP."""

from __future__ import annotations

import json

import asyncpg

from agents.ports import StoreUnavailable
from domain.ticket import WORKING_STATUSES, TicketState
from infra.postgres.store import UNAVAILABLE_ERRORS, AsyncpgTicketStore

# By the ticket's assignments, not `lead_unit`/`co_units`: a lead whose return awaits the
# control room still holds its order (and `lead_unit` is empty meanwhile). The status filter
# goes first (index tickets_by_status): only tickets being worked on are looked into.
_HELD_BY = """
SELECT state FROM tickets
WHERE status = ANY($1::text[]) AND state->'assignments' @> $2::jsonb
ORDER BY received_at, ticket_id
LIMIT $3
"""


class AsyncpgOrderQueries:
    """Read-only, through the ticket store's pool. Raises `StoreUnavailable`."""

    def __init__(self, store: AsyncpgTicketStore) -> None:
        self._store = store

    async def held_by(self, unit: str, limit: int) -> list[TicketState]:
        pool = await self._store.pool()
        held = json.dumps([{"unit": unit}])
        try:
            rows: list[asyncpg.Record] = await pool.fetch(
                _HELD_BY, sorted(s.value for s in WORKING_STATUSES), held, limit
            )
        except UNAVAILABLE_ERRORS as exc:
            raise StoreUnavailable(str(exc)) from exc
        return [TicketState.model_validate_json(row["state"]) for row in rows]
