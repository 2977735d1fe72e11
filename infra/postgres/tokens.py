"""AsyncpgTokenStore: the HTTP API's bearer tokens in `unit_tokens` (migration 0004).

A token is random, shown once when issued, and kept only as its SHA-256: a copy of the table
gives nobody a token. A token's id, for people and for revoking, is the start of that hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from agents.ports import StoreUnavailable
from domain.access import TOKEN_ROLES, Principal, TokenRole
from infra.postgres.store import UNAVAILABLE_ERRORS, AsyncpgTicketStore

TOKEN_PREFIX = "sbk_"  # noqa: S105 - a marker that makes a leaked token recognisable, not a secret
ID_LENGTH = 12  # of the hash, as `tokens list` shows it
MIN_REVOKE_PREFIX = 6
_MAX_TOKEN_LENGTH = 200  # ours are 47 characters; anything far longer is not worth hashing

_INSERT = "INSERT INTO unit_tokens (token_sha256, subject, role, label) VALUES ($1, $2, $3, $4)"
_VERIFY = "SELECT token_sha256, subject, role FROM unit_tokens WHERE token_sha256 = $1 AND revoked_at IS NULL"
_LIST = "SELECT * FROM unit_tokens ORDER BY created_at, token_sha256"
_ACTIVE_WITH_PREFIX = (
    "SELECT * FROM unit_tokens WHERE starts_with(token_sha256, $1) AND revoked_at IS NULL FOR UPDATE"
)
_REVOKE = "UPDATE unit_tokens SET revoked_at = now() WHERE token_sha256 = $1 RETURNING *"


def token_digest(token: str) -> str:
    """What the table keeps of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class TokenRecord:
    """A token as the table knows it: never the token itself."""

    token_id: str
    principal: Principal
    label: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once; not kept anywhere
    record: TokenRecord


class TokenNotFound(Exception):
    """No active token's id starts with the prefix given, or more than one does."""


class AsyncpgTokenStore:
    """Issue, verify, list and revoke tokens, through the ticket store's pool."""

    def __init__(self, store: AsyncpgTicketStore) -> None:
        self._store = store

    async def issue(self, principal: Principal, label: str = "") -> IssuedToken:
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        digest = token_digest(token)
        pool = await self._store.pool()
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(_INSERT, digest, principal.subject, principal.role, label)
            row = await conn.fetchrow("SELECT * FROM unit_tokens WHERE token_sha256 = $1", digest)
        return IssuedToken(token=token, record=_record(row))

    async def verify(self, token: str) -> Principal | None:
        """The holder of an active token; None for an unknown, revoked or malformed one."""
        if not token or len(token) > _MAX_TOKEN_LENGTH:
            return None
        digest = token_digest(token)
        pool = await self._store.pool()
        try:
            row = await pool.fetchrow(_VERIFY, digest)
        except UNAVAILABLE_ERRORS as exc:
            raise StoreUnavailable(str(exc)) from exc
        # The lookup is by the hash, not the token; the constant-time compare keeps it so even
        # if the index lookup were ever replaced by a scan or a cache.
        if row is None or not hmac.compare_digest(row["token_sha256"], digest):
            return None
        return Principal(subject=row["subject"], role=_role(row["role"]))

    async def list(self) -> list[TokenRecord]:
        pool = await self._store.pool()
        return [_record(row) for row in await pool.fetch(_LIST)]

    async def revoke(self, prefix: str) -> TokenRecord:
        """Revoke the one active token whose id starts with `prefix`; raises `TokenNotFound`."""
        prefix = prefix.strip().lower()
        if len(prefix) < MIN_REVOKE_PREFIX:
            raise TokenNotFound(f"give at least {MIN_REVOKE_PREFIX} characters of the token's id")
        pool = await self._store.pool()
        async with pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_ACTIVE_WITH_PREFIX, prefix)
            if len(rows) != 1:
                found = "no active token" if not rows else f"{len(rows)} active tokens"
                raise TokenNotFound(f"{found} with an id starting {prefix}")
            row = await conn.fetchrow(_REVOKE, rows[0]["token_sha256"])
        return _record(row)


def _role(value: str) -> TokenRole:
    for role in TOKEN_ROLES:
        if role == value:
            return role
    raise ValueError(f"unknown token role {value!r}")  # the table's CHECK makes this unreachable


def _record(row: asyncpg.Record) -> TokenRecord:
    return TokenRecord(
        token_id=row["token_sha256"][:ID_LENGTH],
        principal=Principal(subject=row["subject"], role=_role(row["role"])),
        label=row["label"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )
