"""AsyncpgRoomSessions: the control room's sessions in `room_sessions` (migration 0010).

A session is found by the SHA-256 of its id; it is live while not ended (logout), not expired,
and, when a token opened it, while that token is not revoked: revoking a token ends its
sessions on the next request, with no list of sessions to chase.
"""

from __future__ import annotations

from datetime import datetime

from agents.ports import StoreUnavailable
from domain.access import Principal
from infra.postgres.store import UNAVAILABLE_ERRORS, AsyncpgTicketStore
from infra.postgres.tokens import token_digest

_CREATE = """
INSERT INTO room_sessions (session_sha256, subject, role, token_sha256, expires_at)
VALUES ($1, $2, $3, (SELECT token_sha256 FROM unit_tokens WHERE token_sha256 = $4), $5)
"""
_HOLDER = """
SELECT s.subject, s.role FROM room_sessions s
LEFT JOIN unit_tokens t ON t.token_sha256 = s.token_sha256
WHERE s.session_sha256 = $1 AND s.ended_at IS NULL AND s.expires_at > $2
  AND (s.token_sha256 IS NULL OR t.revoked_at IS NULL)
"""
_END = "UPDATE room_sessions SET ended_at = now() WHERE session_sha256 = $1 AND ended_at IS NULL"
# Rows past their end by a day are of no use to anyone; removed as new sessions open.
_PURGE = "DELETE FROM room_sessions WHERE expires_at < $1::timestamptz - interval '1 day'"


class AsyncpgRoomSessions:
    """`web.room.auth.SessionStore` over the ticket store's pool. Raises `StoreUnavailable`."""

    def __init__(self, store: AsyncpgTicketStore) -> None:
        self._store = store

    async def create(self, digest: str, principal: Principal, secret: str, expires_at: datetime) -> None:
        try:
            pool = await self._store.pool()
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(_PURGE, expires_at)
                await conn.execute(
                    _CREATE, digest, principal.subject, principal.role, token_digest(secret), expires_at
                )
        except UNAVAILABLE_ERRORS as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def holder(self, digest: str, now: datetime) -> Principal | None:
        try:
            pool = await self._store.pool()
            row = await pool.fetchrow(_HOLDER, digest, now)
        except UNAVAILABLE_ERRORS as exc:
            raise StoreUnavailable(str(exc)) from exc
        if row is None or row["role"] not in ("control_room", "supervisor", "operator"):
            return None
        return Principal(subject=row["subject"], role=row["role"])

    async def end(self, digest: str) -> None:
        try:
            pool = await self._store.pool()
            await pool.execute(_END, digest)
        except UNAVAILABLE_ERRORS as exc:
            raise StoreUnavailable(str(exc)) from exc
