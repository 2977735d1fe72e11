"""HTTP intake: `POST /api/appeals` puts an appeal on `appeals.intake`; `GET` follows it to its ticket.

An invalid body is answered synchronously (400/413/415/422) and not published: the HTTP
client holds the error and its own copy of what it sent, so nothing is lost. Only the
Kafka channel adapters, which have nobody to answer, rely on `appeals.rejected`.
"""

from __future__ import annotations

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
from schemas.base import escape_refused, is_unstorable
from web.inputs import APPEAL_BODY_BYTES, UNSTORABLE_CODE, InputRefused, check_parameters, read_json
from web.ports import AppealPublisher, IntakeUnavailable, TicketReader

# How long a client waits before retrying when Kafka or PostgreSQL is not reachable.
RETRY_AFTER_S = "5"
# The fields holding characters the store cannot, as `UNSTORABLE_CODE` answers them (400).
UNSTORABLE_MESSAGE = (
    "the body holds characters that cannot be stored (control characters other than tab, LF and CR; "
    "lone surrogates; U+FFFE, U+FFFF): see fields"
)


def error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    headers = {"Retry-After": RETRY_AFTER_S} if status == 503 else None
    return JSONResponse({"error": code, "message": message, **extra}, status_code=status, headers=headers)


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    """Each problem by field path; the submitted values are not echoed (they may hold a phone).
    A path may quote a JSON name as sent: a character the contract refuses is shown escaped."""
    return [
        {
            "field": escape_refused(".".join(map(str, e["loc"]))) or "(body)",
            "message": escape_refused(e["msg"]),
            "type": e["type"],
        }
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
            data = await read_json(request, APPEAL_BODY_BYTES)
        except InputRefused as refused:
            return error(refused.status, refused.code, refused.message)
        if not isinstance(data, dict):
            return error(400, "invalid_json", "请求体须是诉求字段组成的 JSON 对象")
        at = now()
        if data.get("received_at") is None:
            data["received_at"] = at.isoformat()
        try:
            # The intake agent's own check (`streams.codecs.decode_appeal`): not dated ahead of now.
            appeal = Appeal.model_validate(data, context={"now": at})
        except ValidationError as exc:
            fields = field_errors(exc)
            if is_unstorable(exc):
                return error(400, UNSTORABLE_CODE, UNSTORABLE_MESSAGE, fields=fields)
            return error(422, "invalid_appeal", "the appeal was not accepted", fields=fields)
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
            check_parameters(request)
            state = await tickets.by_intake_key(channel, source_id)
        except InputRefused as refused:
            return error(refused.status, refused.code, refused.message)
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
