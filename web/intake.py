"""HTTP intake: `POST /api/appeals` puts an appeal on `appeals.intake`; `GET` follows it to its ticket.

An invalid body is answered synchronously (400/413/422) and not published: the HTTP
client holds the error and its own copy of what it sent, so nothing is lost. Only the
Kafka channel adapters, which have nobody to answer, rely on `appeals.rejected`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from agents.ports import StoreUnavailable
from domain.jurisdiction import Jurisdiction
from schemas.appeal import Appeal
from streams.codecs import MAX_INTAKE_BYTES
from web.ports import AppealPublisher, IntakeUnavailable, TicketReader

# The same bound the intake agent applies to a record, so what HTTP accepts the topic accepts.
MAX_BODY_BYTES = MAX_INTAKE_BYTES
# How long a client waits before retrying when Kafka or PostgreSQL is not reachable.
RETRY_AFTER_S = "5"


class BodyTooLarge(Exception):
    """More than the limit was sent (or announced); the rest of the body is not read."""


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, refusing early when Content-Length or the bytes received pass `limit`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    headers = {"Retry-After": RETRY_AFTER_S} if status == 503 else None
    return JSONResponse({"error": code, "message": message, **extra}, status_code=status, headers=headers)


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    """Each problem by field path; the submitted values are not echoed (they may hold a phone)."""
    return [
        {"field": ".".join(map(str, e["loc"])) or "(body)", "message": e["msg"], "type": e["type"]}
        for e in exc.errors()
    ]


def status_url(appeal: Appeal) -> str:
    return f"/api/appeals/{appeal.channel}/{quote(appeal.source_id, safe='')}"


def intake_routes(
    publisher: AppealPublisher,
    tickets: TicketReader,
    jurisdiction: Jurisdiction,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[Route]:
    async def submit(request: Request) -> Response:
        try:
            data = json.loads(await read_body(request))
        except BodyTooLarge:
            return error(413, "too_large", f"the body exceeds {MAX_BODY_BYTES} bytes")
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            return error(400, "invalid_json", f"the body is not UTF-8 JSON: {exc}")
        if not isinstance(data, dict):
            return error(400, "invalid_json", "the body must be a JSON object of appeal fields")
        if data.get("received_at") is None:
            data["received_at"] = now().isoformat()
        try:
            appeal = Appeal.model_validate(data)
        except ValidationError as exc:
            return error(422, "invalid_appeal", "the appeal was not accepted", fields=field_errors(exc))
        try:
            await publisher.publish(appeal)
        except IntakeUnavailable:
            return error(503, "intake_unavailable", "not accepted now; retry with the same source_id")
        url = status_url(appeal)
        body = {"intake_key": appeal.intake_key, "status_url": url}
        return JSONResponse(body, status_code=202, headers={"Location": url})

    async def follow(request: Request) -> Response:
        channel, source_id = request.path_params["channel"], request.path_params["source_id"]
        try:
            state = await tickets.by_intake_key(channel, source_id)
        except StoreUnavailable:
            return error(503, "store_unavailable", "the ticket database is not reachable; retry")
        if state is None:
            message = "no ticket yet: still being processed, or never received"
            return error(404, "not_found", message, intake_key=f"{channel}:{source_id}")
        return JSONResponse(
            {
                "intake_key": state.appeal.intake_key,
                "ticket_id": state.ticket_id,
                "status": state.status.value,
                "lead": state.lead,
                "lead_name": jurisdiction.unit_name(state.lead) if state.lead else None,
                "co": list(state.co),
                "received_at": state.received_at.isoformat(),
                "updated_at": state.updated_at.isoformat(),
            }
        )

    return [
        Route("/api/appeals", submit, methods=["POST"]),
        Route("/api/appeals/{channel}/{source_id:path}", follow, methods=["GET"]),
    ]
