"""Control-room login: a password (or a control-room token) buys a signed session cookie.

The cookie is `<operator and role>.<expires>.<HMAC-SHA256>`, HttpOnly and SameSite=Strict, so
scripts cannot read it and other sites cannot send it; the operator it names is who the
commands sent from the room are recorded as.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from agents.ports import StoreUnavailable
from domain.access import Principal
from schemas.base import refused_character, unstorable_error
from web.api_ports import TokenVerifier
from web.inputs import InputRefused, read_json
from web.throttle import Attempt, LoginThrottle

COOKIE = "shaobao_room"
SESSION_S = 12 * 3600  # one shift
FAILED_LOGIN_DELAY_S = 0.5  # slows guessing down
LOGIN_BODY_BYTES = 4096  # a name and a secret


ROOM_ROLES = frozenset({"control_room", "supervisor"})


class Credentials(Protocol):
    async def principal_for(self, name: str, secret: str) -> Principal | None:
        """Who a secret (password or token) logs in as; None if it is not valid."""
        ...


class PasswordCredentials:
    """One shared password for the room's desks; the operator types their own name."""

    def __init__(self, password: str) -> None:
        self._password = password.encode()

    async def principal_for(self, name: str, secret: str) -> Principal | None:
        if not self._password or not hmac.compare_digest(secret.encode(), self._password):
            return None
        return Principal(subject=name.strip()[:40] or "值班员", role="control_room")


class TokenCredentials:
    """A control-room or supervisor token of the HTTP API (`shaobao tokens issue --role …`)."""

    def __init__(self, tokens: TokenVerifier) -> None:
        self._tokens = tokens

    async def principal_for(self, name: str, secret: str) -> Principal | None:
        try:
            principal = await self._tokens.verify(secret.strip())
        except StoreUnavailable:
            return None
        return principal if principal is not None and principal.role in ROOM_ROLES else None


class AnyOf:
    def __init__(self, *credentials: Credentials) -> None:
        self._credentials = credentials

    async def principal_for(self, name: str, secret: str) -> Principal | None:
        for credentials in self._credentials:
            if (found := await credentials.principal_for(name, secret)) is not None:
                return found
        return None


class RoomSessions:
    def __init__(
        self, credentials: Credentials, key: bytes | None = None, throttle: LoginThrottle | None = None
    ) -> None:
        self._credentials = credentials
        self._key = key or secrets.token_bytes(32)
        self._throttle = throttle or LoginThrottle()

    def _sign(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()

    def issue(self, principal: Principal, now_s: float | None = None) -> str:
        expires = int((now_s or time.time()) + SESSION_S)
        who = json.dumps([principal.subject, principal.role], ensure_ascii=False)
        body = f"{base64.urlsafe_b64encode(who.encode()).decode()}.{expires}"
        return f"{body}.{self._sign(body)}"

    def principal(self, request: Request) -> Principal | None:
        """The holder of a valid, unexpired session cookie, or None."""
        cookie = request.cookies.get(COOKIE, "")
        body, _, signature = cookie.rpartition(".")
        # As bytes: compare_digest refuses str holding anything but ASCII (a cookie as sent).
        if not body or not hmac.compare_digest(signature.encode(), self._sign(body).encode()):
            return None
        encoded, _, expires = body.partition(".")
        if not expires.isdigit() or int(expires) < time.time():
            return None
        subject, role = json.loads(base64.urlsafe_b64decode(encoded.encode()))
        return Principal(subject=subject, role=role) if role in ROOM_ROLES else None

    async def login(self, request: Request) -> Response:
        try:
            name, secret = _login_fields(await read_json(request, limit=LOGIN_BODY_BYTES))
        except InputRefused as refused:
            return JSONResponse({"error": f"登录请求无效：{refused.message}"}, status_code=refused.status)
        attempt = self._throttle.begin(name, request.client.host if request.client else "")
        if not isinstance(attempt, Attempt):
            wait = max(1, math.ceil(attempt))
            return JSONResponse(
                {"error": f"尝试次数过多，请 {wait} 秒后再试"},
                status_code=429,
                headers={"Retry-After": str(wait)},
            )
        principal = await self._credentials.principal_for(name, secret)
        if principal is None:
            await asyncio.sleep(FAILED_LOGIN_DELAY_S)
            return JSONResponse({"error": "口令或令牌不正确"}, status_code=401)
        self._throttle.succeeded(attempt)
        response = JSONResponse({"operator": principal.subject, "role": principal.role})
        response.set_cookie(
            COOKIE,
            self.issue(principal),
            max_age=SESSION_S,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    async def logout(self, request: Request) -> Response:
        response = JSONResponse({"ok": True})
        response.delete_cookie(COOKIE, httponly=True, samesite="strict")
        return response

    def required(
        self, handler: Callable[[Request, Principal], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        """A handler that runs only with a valid session, given who holds it."""

        async def guarded(request: Request) -> Response:
            principal = self.principal(request)
            if principal is None:
                return JSONResponse({"error": "请先登录"}, status_code=401)
            return await handler(request, principal)

        return guarded


def _login_fields(body: object) -> tuple[str, str]:
    """The name and secret of a login; neither may hold what the store cannot (the name is who
    the room's commands are recorded as, and a lone surrogate cannot even be hashed)."""
    if not isinstance(body, dict):
        raise InputRefused(400, "invalid_login", "请求体须是 JSON 对象（name, secret）")
    fields = {field: str(body.get(field, "")) for field in ("name", "secret")}
    for field, text in fields.items():
        if (index := refused_character(text)) is not None:
            raise InputRefused(
                400, "unstorable_characters", f"{field}: {unstorable_error(text, index).message()}"
            )
    return fields["name"], fields["secret"]
