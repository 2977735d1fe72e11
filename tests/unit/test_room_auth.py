"""The control room's session cookie: signed, expiring, naming who logged in and their role."""

from __future__ import annotations

import time

import pytest
from starlette.requests import Request

from domain.access import Principal
from web.room_auth import COOKIE, SESSION_S, PasswordCredentials, RoomSessions

KEY = b"k" * 32


def request_with(cookie: str) -> Request:
    return Request({"type": "http", "headers": [(b"cookie", f"{COOKIE}={cookie}".encode())]})


def test_a_session_names_its_operator_and_role_until_it_expires() -> None:
    sessions = RoomSessions(PasswordCredentials("pw"), KEY)
    cookie = sessions.issue(Principal(subject="张值班", role="supervisor"))
    assert sessions.principal(request_with(cookie)) == Principal(subject="张值班", role="supervisor")
    expired = sessions.issue(
        Principal(subject="张值班", role="control_room"), now_s=time.time() - SESSION_S - 1
    )
    assert sessions.principal(request_with(expired)) is None


@pytest.mark.parametrize("forge", ["swap_key", "edit_body", "garbage"])
def test_a_forged_or_foreign_cookie_is_no_session(forge: str) -> None:
    sessions = RoomSessions(PasswordCredentials("pw"), KEY)
    cookie = sessions.issue(Principal(subject="张值班", role="control_room"))
    if forge == "swap_key":
        cookie = RoomSessions(PasswordCredentials("pw"), b"x" * 32).issue(
            Principal(subject="a", role="supervisor")
        )
    elif forge == "edit_body":
        body, _, signature = cookie.rpartition(".")
        cookie = body.replace(body[0], "A" if body[0] != "A" else "B", 1) + "." + signature
    else:
        cookie = "not-a-session"
    assert sessions.principal(request_with(cookie)) is None


async def test_the_password_logs_in_the_name_typed_and_an_empty_password_logs_in_nobody() -> None:
    assert await PasswordCredentials("pw").principal_for(" 李调度 ", "pw") == Principal(
        "李调度", "control_room"
    )
    assert await PasswordCredentials("pw").principal_for("李调度", "PW") is None
    assert await PasswordCredentials("").principal_for("李调度", "") is None
