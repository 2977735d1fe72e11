"""Who may put appeals in over HTTP: an intake key per channel and client, and how often.

`POST /api/appeals` takes the key as `Authorization: Bearer <key>`, Open311's `POST requests`
as its `api_key` parameter (the spec's own). The key fixes the channel and puts the client's
name before its source ids (`domain.access.IntakeClient`), so a stranger cannot take a
client's ids (and with them the genuine appeal's place). Requests are counted per client
address before the key is even looked at, and per key after (`web.throttle.RateLimit`).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from domain.access import Forbidden, IntakeClient, intake_client_of
from web.ports import TokenVerifier
from web.throttle import RateLimit

_MAX_KEY_LENGTH = 200


class KeyRefused(Exception):
    """Not let in: the HTTP status, a code for programs and a message for people."""

    def __init__(self, status: int, code: str, message: str, retry_after_s: float = 0.0) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.retry_after_s = retry_after_s

    @property
    def headers(self) -> dict[str, str]:
        if self.status == 401:
            return {"WWW-Authenticate": 'Bearer realm="shaobao-intake"'}
        if self.status == 429:
            return {"Retry-After": str(max(1, round(self.retry_after_s + 0.5)))}
        return {}


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


@dataclass
class IntakeGate:
    """The keys and the counts, for intake and Open311 alike."""

    keys: TokenVerifier
    limits: RateLimit

    async def admit(self, request: Request, key: str | None) -> IntakeClient:
        """The key's client, counted; raises `KeyRefused` (401, 403, 429) or StoreUnavailable."""
        wait = self.limits.admit_address(client_address(request))
        if wait > 0:
            raise KeyRefused(
                429, "too_many_requests", "too many requests from this address; retry later", wait
            )
        if not key:
            raise KeyRefused(
                401, "unauthenticated", "an intake key is required (shaobao tokens issue --intake)"
            )
        principal = await self.keys.verify(key) if len(key) <= _MAX_KEY_LENGTH else None
        if principal is None:
            raise KeyRefused(401, "invalid_key", "the intake key is unknown or revoked")
        try:
            client = intake_client_of(principal)
        except Forbidden as exc:
            raise KeyRefused(403, "forbidden", exc.reason) from exc
        except ValueError as exc:  # a key row naming a channel this version does not know
            raise KeyRefused(403, "forbidden", f"the intake key's client is not valid: {exc}") from exc
        wait = self.limits.admit_key(client.subject)
        if wait > 0:
            raise KeyRefused(
                429, "too_many_requests", f"too many requests with this key ({client.subject})", wait
            )
        return client


def intake_gate(keys: TokenVerifier, per_key_per_minute: int, per_address_per_minute: int) -> IntakeGate:
    """A city's channel sends about an appeal a second on average and bursts of ten times that
    (Settings: 1,200 a minute per key); one address (an office, a NAT) shares its allowance
    among everyone behind it (600)."""
    return IntakeGate(keys, RateLimit(per_key=per_key_per_minute, per_address=per_address_per_minute))
