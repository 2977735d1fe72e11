"""HTTP intake: `POST /api/appeals` puts an appeal on `appeals.intake`; `GET` follows it to its ticket.

Both take an intake key (`web.api.intake_keys`): it fixes the channel, and the client's own
`source_id` is kept after the client's name (`name.source_id`), so the status URL and the
`GET` use the id the client sent while the intake key names the namespaced one.
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
from domain.access import IntakeClient
from domain.jurisdiction import Jurisdiction
from schemas.appeal import Appeal
from schemas.base import escape_refused, is_unstorable
from web.api.intake_keys import IntakeGate, KeyRefused, bearer
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


def refused(refusal: KeyRefused) -> JSONResponse:
    body = {"error": refusal.code, "message": refusal.message}
    return JSONResponse(body, status_code=refusal.status, headers=refusal.headers)


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


def status_url(channel: str, sent_source_id: str) -> str:
    return f"/api/appeals/{channel}/{quote(sent_source_id, safe='')}"


def _as_client(data: dict[str, Any], client: IntakeClient) -> tuple[dict[str, Any], str | None]:
    """The body as the key's client sends it: its channel, its namespaced source id; and the
    source id as sent (None when it is missing or not text: validation names that)."""
    sent = data.get("source_id")
    if not isinstance(sent, str):
        return {**data, "channel": client.channel}, None
    return {**data, "channel": client.channel, "source_id": client.source_id(sent)}, sent


def intake_routes(
    publisher: AppealPublisher,
    tickets: TicketReader,
    jurisdiction: Jurisdiction,
    gate: IntakeGate,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[Route]:
    """`POST /api/appeals` (an appeal from a keyed channel) and `GET /api/appeals/{channel}/{source_id}`
    (the ticket it opened)."""

    async def submit(request: Request) -> Response:
        return await _submit(request, publisher, gate, now)

    async def follow(request: Request) -> Response:
        return await _follow(request, tickets, jurisdiction, gate)

    return [
        Route("/api/appeals", submit, methods=["POST"]),
        Route("/api/appeals/{channel}/{source_id:path}", follow, methods=["GET"]),
    ]


async def _submit(
    request: Request, publisher: AppealPublisher, gate: IntakeGate, now: Callable[[], datetime]
) -> Response:
    """The body's appeal, as the key's client sent it, on `appeals.intake` (202), or why not."""
    try:
        client = await gate.admit(request, bearer(request))
    except KeyRefused as refusal:
        return refused(refusal)
    except StoreUnavailable:
        return error(503, "store_unavailable", "the key database is not reachable; retry")
    try:
        data = await read_json(request, APPEAL_BODY_BYTES)
    except InputRefused as refused_input:
        return error(refused_input.status, refused_input.code, refused_input.message)
    found = _appeal_of(data, client, now)
    if isinstance(found, Response):
        return found
    appeal, sent = found
    try:
        await publisher.publish(appeal)
    except IntakeUnavailable:
        return error(503, "intake_unavailable", "not accepted now; retry with the same source_id")
    url = status_url(appeal.channel, sent or appeal.source_id)
    body = {"intake_key": appeal.intake_key, "status_url": url}
    return JSONResponse(body, status_code=202, headers={"Location": url})


def _appeal_of(
    data: object, client: IntakeClient, now: Callable[[], datetime]
) -> tuple[Appeal, str | None] | Response:
    """The appeal in the body under the key's channel, with its source id as sent; or the refusal."""
    if not isinstance(data, dict):
        return error(400, "invalid_json", "请求体须是诉求字段组成的 JSON 对象")
    if (refusal := _not_the_keys(data, client)) is not None:
        return refusal
    data, sent = _as_client(data, client)
    at = now()
    if data.get("received_at") is None:
        data["received_at"] = at.isoformat()
    try:
        # The intake agent's own check (`streams.codecs.decode_appeal`): not dated ahead of now.
        return Appeal.model_validate(data, context={"now": at}), sent
    except ValidationError as exc:
        fields = field_errors(exc)
        if is_unstorable(exc):
            return error(400, UNSTORABLE_CODE, UNSTORABLE_MESSAGE, fields=fields)
        return error(422, "invalid_appeal", "the appeal was not accepted", fields=fields)


def _not_the_keys(data: dict[str, Any], client: IntakeClient) -> Response | None:
    """422 for what a key may not set: another channel, or the desk's decision."""
    if data.get("channel", client.channel) != client.channel:
        mismatch = f"the intake key is for channel {client.channel}: leave channel out or send that"
        fields = [{"field": "channel", "message": mismatch, "type": "channel_mismatch"}]
        return error(422, "invalid_appeal", "the appeal was not accepted", fields=fields)
    if "desk" in data:
        # The operator's decision is the desk's to carry (an answer, a dispatch): no key sets it.
        only = "only the hotline's desk decides an appeal at intake: leave desk out"
        fields = [{"field": "desk", "message": only, "type": "desk_not_allowed"}]
        return error(422, "invalid_appeal", "the appeal was not accepted", fields=fields)
    return None


async def _follow(
    request: Request, tickets: TicketReader, jurisdiction: Jurisdiction, gate: IntakeGate
) -> Response:
    """The ticket the key's appeal opened, by the source id the client sent; 404 until it exists."""
    channel, sent = request.path_params["channel"], request.path_params["source_id"]
    try:
        check_parameters(request)
        client = await gate.admit(request, bearer(request))
        if channel != client.channel:
            return error(403, "forbidden", f"the intake key is for channel {client.channel}, not {channel}")
        source_id = client.source_id(sent)
        state = await tickets.by_intake_key(channel, source_id)
    except KeyRefused as refusal:
        return refused(refusal)
    except InputRefused as refused_input:
        return error(refused_input.status, refused_input.code, refused_input.message)
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
