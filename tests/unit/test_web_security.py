"""The web edge (issue 18, item 2 in part): login throttling and body cap, security headers,
and the control room's same-origin rule, through a real Starlette app and HTTP client."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from domain.access import Principal
from web.room import auth
from web.room.auth import PasswordCredentials, RoomSessions
from web.security import CONTENT_SECURITY_POLICY, SecurityMiddleware
from web.throttle import Attempt, LoginThrottle

HOST = "room.example"


def app(sessions: RoomSessions) -> Starlette:
    async def act(request: Request, principal: Principal) -> Response:
        return JSONResponse({"done": principal.subject})

    return Starlette(
        routes=[
            Route("/api/room/login", sessions.login, methods=["POST"]),
            Route("/api/room/act", sessions.required(act), methods=["POST"]),
        ],
        middleware=[Middleware(SecurityMiddleware)],
    )


def client(sessions: RoomSessions) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app(sessions)), base_url=f"http://{HOST}")


async def test_thirty_wrong_passwords_at_once_get_429_after_the_first_five() -> None:
    async with client(RoomSessions(PasswordCredentials("right"))) as web:
        answers = await asyncio.gather(
            *(web.post("/api/room/login", json={"name": "李调度", "secret": f"guess{i}"}) for i in range(30))
        )
    assert Counter(a.status_code for a in answers) == {401: 5, 429: 25}
    refused = next(a for a in answers if a.status_code == 429)
    assert (
        refused.json()["error"].startswith("尝试次数过多，请 ")
        and 0 < int(refused.headers["retry-after"]) <= 300
    )


async def test_the_right_password_after_a_few_wrong_ones_logs_in_and_clears_the_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Nine wrong passwords one after another: the half-second pause each is not what this tests.
    monkeypatch.setattr(auth, "FAILED_LOGIN_DELAY_S", 0.0)
    async with client(RoomSessions(PasswordCredentials("right"))) as web:
        for _ in range(4):
            assert (await web.post("/api/room/login", json={"name": "王", "secret": "x"})).status_code == 401
        assert (await web.post("/api/room/login", json={"name": "王", "secret": "right"})).status_code == 200
        for _ in range(5):  # the name starts afresh
            assert (await web.post("/api/room/login", json={"name": "王", "secret": "x"})).status_code == 401
        assert (await web.post("/api/room/login", json={"name": "王", "secret": "x"})).status_code == 429


def test_an_address_is_held_to_twenty_attempts_across_names_and_the_window_frees_it() -> None:
    now = [0.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    held = [throttle.begin(f"op{i}", "10.0.0.9") for i in range(20)]
    assert all(isinstance(a, Attempt) for a in held)
    assert throttle.begin("op99", "10.0.0.9") == 300.0
    assert isinstance(throttle.begin("op99", "10.0.0.10"), Attempt)  # another address
    now[0] = 300.0
    assert isinstance(throttle.begin("op99", "10.0.0.9"), Attempt)


async def test_a_login_body_over_4_kib_is_refused_unread() -> None:
    async with client(RoomSessions(PasswordCredentials("right"))) as web:
        answer = await web.post("/api/room/login", json={"name": "李", "secret": "x" * 5000})
    assert answer.status_code == 413


async def test_every_answer_carries_the_security_headers() -> None:
    async with client(RoomSessions(PasswordCredentials("right"))) as web:
        answer = await web.post("/api/room/login", json={"name": "李", "secret": "right"})
    assert answer.status_code == 200
    assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert (answer.headers["x-frame-options"], answer.headers["x-content-type-options"]) == (
        "DENY",
        "nosniff",
    )
    assert answer.headers["referrer-policy"] == "no-referrer"


async def test_a_room_request_from_another_sites_page_is_refused_and_the_rooms_own_is_not() -> None:
    async with client(RoomSessions(PasswordCredentials("right"))) as web:
        login = await web.post(
            "/api/room/login", json={"name": "李", "secret": "right"}, headers={"Origin": f"http://{HOST}"}
        )
        assert login.status_code == 200
        own = await web.post("/api/room/act", headers={"Origin": f"http://{HOST}"})
        assert (own.status_code, own.json()) == (200, {"done": "李"})
        for headers in (
            {"Origin": "http://evil.example"},
            {"Origin": "null"},
            {"Sec-Fetch-Site": "cross-site"},
        ):
            forged = await web.post("/api/room/act", headers=headers)
            assert (forged.status_code, forged.json()) == (
                403,
                {"error": "跨站请求被拒绝：请在控制室页面内操作"},
            )
            assert forged.headers["x-frame-options"] == "DENY"
        cross_login = await web.post(
            "/api/room/login",
            json={"name": "李", "secret": "right"},
            headers={"Origin": "http://evil.example"},
        )
        assert cross_login.status_code == 403
        no_origin = await web.post("/api/room/act")  # a script with the cookie, not a browser page
        assert no_origin.status_code == 200
