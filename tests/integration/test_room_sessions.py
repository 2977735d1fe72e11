"""Control-room sessions kept in PostgreSQL: logout and token revocation end them at once,
for every copy of the cookie, and they outlive a restart of the web process."""

from __future__ import annotations

import asyncpg
import pytest

from domain.access import Principal
from infra.postgres.store import AsyncpgTicketStore
from infra.postgres.tokens import AsyncpgTokenStore
from tests.integration.conftest import Stack
from tests.integration.webtools import issued_token, running_web
from web.room.auth import COOKIE, session_digest

pytestmark = pytest.mark.integration


async def test_logout_ends_the_session_for_every_copy_of_the_cookie(
    stack: Stack, db: asyncpg.Connection
) -> None:
    token = await issued_token(stack.settings, Principal(subject="赵坐席", role="control_room"))
    async with running_web(stack.settings) as web:
        login = await web.client.post("/api/room/login", json={"name": "x", "secret": token})
        assert login.status_code == 200, login.text
        cookie = web.client.cookies[COOKIE]
        row = await db.fetchrow(
            "SELECT subject, role, token_sha256 IS NOT NULL AS by_token FROM room_sessions "
            "WHERE session_sha256 = $1",
            session_digest(cookie),
        )
        assert dict(row) == {"subject": "赵坐席", "role": "control_room", "by_token": True}
        assert await db.fetchval("SELECT count(*) FROM room_sessions WHERE session_sha256 = $1", cookie) == 0

        assert (await web.client.post("/api/room/logout")).status_code == 200
        # A copy of the cookie taken before logout (another tab, a stolen one) is worth nothing.
        again = await web.client.get("/api/room/me", headers={"Cookie": f"{COOKIE}={cookie}"})
        assert again.status_code == 401
        assert await db.fetchval(
            "SELECT ended_at IS NOT NULL FROM room_sessions WHERE session_sha256 = $1", session_digest(cookie)
        )


async def test_revoking_a_token_ends_the_sessions_it_opened_and_a_restart_keeps_the_others(
    stack: Stack,
) -> None:
    revoked = await issued_token(stack.settings, Principal(subject="钱督办", role="supervisor"))
    kept = await issued_token(stack.settings, Principal(subject="孙坐席", role="control_room"))
    async with running_web(stack.settings) as web:
        cookies = {}
        for name, secret in (("revoked", revoked), ("kept", kept)):
            login = await web.client.post("/api/room/login", json={"name": "x", "secret": secret})
            assert login.status_code == 200, login.text
            cookies[name] = web.client.cookies[COOKIE]
            web.client.cookies.clear()
    store = AsyncpgTicketStore(stack.settings.database_url)
    try:
        tokens = AsyncpgTokenStore(store)
        [record] = [
            r for r in await tokens.list() if r.principal.subject == "钱督办" and r.revoked_at is None
        ]
        await tokens.revoke(record.token_id)
    finally:
        await store.close()
    async with running_web(stack.settings) as restarted:  # a new web process, the same database
        me = {
            name: await restarted.client.get("/api/room/me", headers={"Cookie": f"{COOKIE}={c}"})
            for name, c in cookies.items()
        }
    assert me["revoked"].status_code == 401
    assert (me["kept"].status_code, me["kept"].json()) == (
        200,
        {"operator": "孙坐席", "role": "control_room"},
    )
