"""Bearer-token authentication and error answers for the units' and control room's API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from agents.ports import StoreUnavailable
from domain.access import Forbidden, Principal, TokenRole
from schemas.base import escape_refused, is_unstorable
from schemas.http_api import ApiError, FieldError
from web.api.intake import RETRY_AFTER_S, UNSTORABLE_MESSAGE, field_errors
from web.inputs import UNSTORABLE_CODE, InputRefused
from web.ports import PublishUnavailable, TokenVerifier

Handler = Callable[[Request, Principal], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


class ApiProblem(Exception):
    """A request not accepted: its status, a code for programs and a message for people."""

    def __init__(self, status: int, error: str, message: str, fields: tuple[FieldError, ...] = ()) -> None:
        super().__init__(message)
        # A message may quote the path (a ticket id as sent), which the contract would refuse.
        shown = escape_refused(message)
        self.status, self.body = status, ApiError(error=error, message=shown, fields=fields)

    def response(self) -> Response:
        headers = {"WWW-Authenticate": 'Bearer realm="shaobao"'} if self.status == 401 else {}
        if self.status == 503:
            headers["Retry-After"] = RETRY_AFTER_S
        return JSONResponse(self.body.model_dump(mode="json"), status_code=self.status, headers=headers)


def invalid(error: str, message: str, exc: ValidationError) -> ApiProblem:
    """422 naming each field and why, or 400 when a field holds characters the store cannot
    (see `web.api.intake`); the submitted values are not echoed (they may hold a phone)."""
    fields = tuple(FieldError(**found) for found in field_errors(exc))
    if is_unstorable(exc):
        return ApiProblem(400, UNSTORABLE_CODE, UNSTORABLE_MESSAGE, fields)
    return ApiProblem(422, error, message, fields)


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
        except InputRefused as refused:  # the body (`web.inputs.read_json`)
            return ApiProblem(refused.status, refused.code, refused.message).response()
        except Forbidden as exc:
            return ApiProblem(403, "forbidden", exc.reason).response()
        except StoreUnavailable:
            return ApiProblem(503, "store_unavailable", "the database is not reachable; retry").response()
        except PublishUnavailable:
            message = "Kafka did not acknowledge; retry the same request (same ids, acts once)"
            return ApiProblem(503, "publish_unavailable", message).response()

    return endpoint
