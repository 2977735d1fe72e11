"""AsyncpgCallerHistory: a caller's tickets by their number, for the desk (migration 0012).

The number is matched as its digits, through the expression index on the received events
(`ticket_events_by_caller_phone`): the expression here must stay the index's, or PostgreSQL
reads every event.
"""

from __future__ import annotations

from agents.ports import StoreUnavailable
from infra.postgres.store import UNAVAILABLE_ERRORS, AsyncpgTicketStore
from web.ports import CallerTicket

_BY_PHONE = """
SELECT t.ticket_id, t.received_at, t.category, t.status, t.satisfaction, cb.outcome AS last_callback
FROM ticket_events e
JOIN tickets t ON t.ticket_id = e.ticket_id
LEFT JOIN LATERAL (
    SELECT c.outcome FROM ticket_callbacks c WHERE c.ticket_id = t.ticket_id
    ORDER BY c.occurred_at DESC, c.attempt DESC LIMIT 1
) cb ON true
WHERE e.type = 'ticket_received'
  AND regexp_replace(e.payload->'appeal'->'caller'->>'phone', '[^0-9]', '', 'g') = $1
ORDER BY t.received_at DESC, t.ticket_id DESC
LIMIT $2
"""


class AsyncpgCallerHistory:
    """`web.ports.CallerHistory` over the ticket store's pool."""

    def __init__(self, store: AsyncpgTicketStore) -> None:
        self._store = store

    async def by_phone(self, digits: str, limit: int = 20) -> list[CallerTicket]:
        try:
            pool = await self._store.pool()
            rows = await pool.fetch(_BY_PHONE, digits, limit)
        except UNAVAILABLE_ERRORS as exc:
            raise StoreUnavailable(str(exc)) from exc
        return [
            CallerTicket(
                ticket_id=row["ticket_id"],
                received_at=row["received_at"],
                category=row["category"],
                status=row["status"],
                satisfaction=row["satisfaction"],
                last_callback=row["last_callback"],
            )
            for row in rows
        ]
