"""Control-room login: a password (or a control-room token) opens a session kept on the server.

The same login opens the operator's desk (坐席, `/desk`): a control-room session opens both,
an operator's token (`shaobao tokens issue --role operator`) only the desk. Each guarded
route names the roles it is for (`ROOM_ROLES` by default, `DESK_ROLES` for the desk).

The cookie holds only the session's random id (HttpOnly, SameSite=Strict: scripts cannot
read it, other sites cannot send it); the server keeps who it is (the operator the room's
commands are recorded as), until when, and which token opened it (`web.ports.SessionStore`,
in PostgreSQL). Logging out ends the session at once, for every copy of the cookie; revoking a
token ends every session it opened.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import math
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from agents.ports import StoreUnavailable
from domain.access import Principal, TokenRole
from schemas.base import refused_character, unstorable_error
from web.inputs import InputRefused, read_json
from web.ports import SessionStore, TokenVerifier
from web.throttle import Attempt, LoginThrottle

COOKIE = "shaobao_room"
SESSION_S = 12 * 3600  # one shift
FAILED_LOGIN_DELAY_S = 0.5  # slows guessing down
LOGIN_BODY_BYTES = 4096  # a name and a secret


ROOM_ROLES: frozenset[TokenRole] = frozenset({"control_room", "supervisor"})
DESK_ROLES: frozenset[TokenRole] = ROOM_ROLES | {"operator"}
# Who may hold a session at all: every role some page of the room is for.
SESSION_ROLES = DESK_ROLES


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
    """A control-room, supervisor or operator token of the HTTP API (`shaobao tokens issue --role …`)."""

    def __init__(self, tokens: TokenVerifier) -> None:
        self._tokens = tokens

    async def principal_for(self, name: str, secret: str) -> Principal | None:
        try:
            principal = await self._tokens.verify(secret.strip())
        except StoreUnavailable:
            return None
        return principal if principal is not None and principal.role in SESSION_ROLES else None


class AnyOf:
    def __init__(self, *credentials: Credentials) -> None:
        self._credentials = credentials

    async def principal_for(self, name: str, secret: str) -> Principal | None:
        for credentials in self._credentials:
            if (found := await credentials.principal_for(name, secret)) is not None:
                return found
        return None


@dataclass
class MemorySessions:
    """Sessions in this process only (tests, and a room without a database): ended by logout."""

    _held: dict[str, tuple[Principal, datetime]] = dataclasses.field(default_factory=dict)

    async def create(self, digest: str, principal: Principal, secret: str, expires_at: datetime) -> None:
        self._held[digest] = (principal, expires_at)

    async def holder(self, digest: str, now: datetime) -> Principal | None:
        found = self._held.get(digest)
        return found[0] if found is not None and found[1] > now else None

    async def end(self, digest: str) -> None:
        self._held.pop(digest, None)


def session_digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


_MAX_SESSION_ID = 100  # ours are 43 characters


class RoomSessions:
    def __init__(
        self,
        credentials: Credentials,
        store: SessionStore | None = None,
        throttle: LoginThrottle | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._credentials = credentials
        self._store = store or MemorySessions()
        self._throttle = throttle or LoginThrottle()
        self._clock = clock

    async def open(self, principal: Principal, secret: str = "") -> str:
        """A new session for `principal`; returns its id (the cookie's value)."""
        session_id = secrets.token_urlsafe(32)
        expires_at = self._clock() + timedelta(seconds=SESSION_S)
        await self._store.create(session_digest(session_id), principal, secret, expires_at)
        return session_id

    async def principal(self, request: Request) -> Principal | None:
        """The holder of the request's live session (of any role in `SESSION_ROLES`), or None.
        Raises StoreUnavailable."""
        session_id = request.cookies.get(COOKIE, "")
        if not session_id or len(session_id) > _MAX_SESSION_ID:
            return None
        principal = await self._store.holder(session_digest(session_id), self._clock())
        return principal if principal is not None and principal.role in SESSION_ROLES else None

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
        try:
            session_id = await self.open(principal, secret)
        except StoreUnavailable:
            return JSONResponse(
                {"error": "数据库暂不可用，请稍后重试"}, status_code=503, headers={"Retry-After": "5"}
            )
        response = JSONResponse({"operator": principal.subject, "role": principal.role})
        response.set_cookie(
            COOKIE,
            session_id,
            max_age=SESSION_S,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    async def logout(self, request: Request) -> Response:
        """Ends the session on the server: a copy of the cookie kept elsewhere is worth nothing."""
        session_id = request.cookies.get(COOKIE, "")
        if session_id and len(session_id) <= _MAX_SESSION_ID:
            try:
                await self._store.end(session_digest(session_id))
            except StoreUnavailable:
                return JSONResponse({"error": "数据库暂不可用，未能退出，请重试"}, status_code=503)
        response = JSONResponse({"ok": True})
        response.delete_cookie(COOKIE, httponly=True, samesite="strict")
        return response

    def required(
        self,
        handler: Callable[[Request, Principal], Awaitable[Response]],
        roles: frozenset[TokenRole] = ROOM_ROLES,
    ) -> Callable[[Request], Awaitable[Response]]:
        """A handler that runs only with a valid session of one of `roles`, given who holds it."""

        async def guarded(request: Request) -> Response:
            try:
                principal = await self.principal(request)
            except StoreUnavailable:
                return JSONResponse(
                    {"error": "数据库暂不可用，请稍后重试"}, status_code=503, headers={"Retry-After": "5"}
                )
            if principal is None:
                return JSONResponse({"error": "请先登录"}, status_code=401)
            if principal.role not in roles:
                return JSONResponse(
                    {"error": "当前账号无权使用此功能（坐席账号请使用坐席受理台 /desk）"}, status_code=403
                )
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
