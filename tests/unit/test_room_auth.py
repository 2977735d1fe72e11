"""The control room's sessions: a random id in the cookie, who and until when on the server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.requests import Request

from domain.access import Principal
from web.room.auth import COOKIE, SESSION_S, MemorySessions, PasswordCredentials, RoomSessions, session_digest

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def request_with(cookie: str) -> Request:
    return Request({"type": "http", "headers": [(b"cookie", f"{COOKIE}={cookie}".encode())]})


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


async def test_a_session_names_its_operator_and_role_until_it_expires() -> None:
    clock = Clock()
    sessions = RoomSessions(PasswordCredentials("pw"), clock=clock)
    cookie = await sessions.open(Principal(subject="张值班", role="supervisor"))
    assert len(cookie) == 43  # 32 random bytes, and nothing else
    assert await sessions.principal(request_with(cookie)) == Principal(subject="张值班", role="supervisor")
    clock.now = NOW + timedelta(seconds=SESSION_S + 1)
    assert await sessions.principal(request_with(cookie)) is None


async def test_the_store_keeps_only_the_ids_hash_and_ending_it_ends_every_copy() -> None:
    store = MemorySessions()
    sessions = RoomSessions(PasswordCredentials("pw"), store)
    cookie = await sessions.open(Principal(subject="张值班", role="control_room"))
    assert list(store._held) == [session_digest(cookie)]
    await store.end(session_digest(cookie))
    assert await sessions.principal(request_with(cookie)) is None


@pytest.mark.parametrize(
    "cookie", ["not-a-session", "", "x" * 5000, "WyJ4IiwiY29udHJvbF9yb29tIl0.9999999999.00"]
)
async def test_a_made_up_cookie_is_no_session(cookie: str) -> None:
    sessions = RoomSessions(PasswordCredentials("pw"))
    await sessions.open(Principal(subject="张值班", role="control_room"))
    assert await sessions.principal(request_with(cookie)) is None


async def test_the_password_logs_in_the_name_typed_and_an_empty_password_logs_in_nobody() -> None:
    assert await PasswordCredentials("pw").principal_for(" 李调度 ", "pw") == Principal(
        "李调度", "control_room"
    )
    assert await PasswordCredentials("pw").principal_for("李调度", "PW") is None
    assert await PasswordCredentials("").principal_for("李调度", "") is None
