"""Bearer-token authentication and error answers for the units' and control room's API."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from agents.ports import StoreUnavailable
from domain.access import Forbidden, Principal, TokenRole
from schemas.http_api import ApiError, FieldError
from web.api_ports import PublishUnavailable, TokenVerifier
from web.intake import RETRY_AFTER_S, BodyTooLarge, read_body

MAX_BODY_BYTES = 64 * 1024  # the longest text field is 4,000 characters
Handler = Callable[[Request, Principal], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


class ApiProblem(Exception):
    """A request not accepted: its status, a code for programs and a message for people."""

    def __init__(self, status: int, error: str, message: str, fields: tuple[FieldError, ...] = ()) -> None:
        super().__init__(message)
        self.status, self.body = status, ApiError(error=error, message=message, fields=fields)

    def response(self) -> Response:
        headers = {"WWW-Authenticate": 'Bearer realm="shaobao"'} if self.status == 401 else {}
        if self.status == 503:
            headers["Retry-After"] = RETRY_AFTER_S
        return JSONResponse(self.body.model_dump(mode="json"), status_code=self.status, headers=headers)


def invalid(error: str, message: str, exc: ValidationError) -> ApiProblem:
    """422 naming each field and why; the submitted values are not echoed (they may hold a phone)."""
    fields = tuple(
        FieldError(field=".".join(map(str, e["loc"])) or "(body)", message=e["msg"], type=e["type"])
        for e in exc.errors()
    )
    return ApiProblem(422, error, message, fields)


async def json_body(request: Request) -> Any:
    try:
        return json.loads(await read_body(request, MAX_BODY_BYTES))
    except BodyTooLarge:
        raise ApiProblem(413, "too_large", f"the body exceeds {MAX_BODY_BYTES} bytes") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ApiProblem(400, "invalid_json", f"the body is not UTF-8 JSON: {exc}") from None


async def authenticate(request: Request, tokens: TokenVerifier) -> Principal:
    """The token's holder; 401 for a missing, malformed, unknown or revoked token."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiProblem(401, "unauthenticated", "send Authorization: Bearer <token>")
    principal = await tokens.verify(token.strip())
    if principal is None:
        raise ApiProblem(401, "invalid_token", "the token is unknown or revoked")
    return principal


def guarded(tokens: TokenVerifier, roles: frozenset[TokenRole], handler: Handler) -> Endpoint:
    """The handler for holders of `roles`, every failure answered as an `ApiError`."""

    async def endpoint(request: Request) -> Response:
        try:
            principal = await authenticate(request, tokens)
            if principal.role not in roles:
                allowed = " or ".join(sorted(roles))
                raise ApiProblem(403, "forbidden", f"this endpoint is for {allowed} tokens")
            return await handler(request, principal)
        except ApiProblem as problem:
            return problem.response()
        except Forbidden as exc:
            return ApiProblem(403, "forbidden", exc.reason).response()
        except StoreUnavailable:
            return ApiProblem(503, "store_unavailable", "the database is not reachable; retry").response()
        except PublishUnavailable:
            message = "Kafka did not acknowledge; retry the same request (same ids, acts once)"
            return ApiProblem(503, "publish_unavailable", message).response()

    return endpoint
