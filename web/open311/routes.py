"""Open311 GeoReport v2 under `/open311/v2/`: services, and service requests as tickets.

A POSTed request becomes an appeal on `appeals.intake`; its ticket id only exists
once the pipeline has taken it in, so the answer is a token (the intake key) that
`GET requests/{token}` and `GET tokens/{token}` accept until and after then.
A POST needs an intake key as `api_key` (the spec's parameter; `web.api.intake_keys`), which
fixes the channel and namespaces the request's id. The listing is public, as the spec
intends (text scrubbed, reports withheld), a page at a time and counted per address.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from agents.ports import StoreUnavailable
from domain.jurisdiction import Jurisdiction
from domain.open311 import (
    FieldValue,
    Open311Error,
    RequestQuery,
    appeal_from_request,
    check_jurisdiction_id,
    parse_request_query,
    service_definition,
    service_request,
    split_token,
)
from domain.open311.services import services
from domain.ticket import TicketState
from schemas.appeal import EARLIEST_RECEIVED_AT, LATEST_RECEIVED_AT
from schemas.base import escape_refused, refused_character, unstorable_error
from web.api.intake_keys import IntakeGate, KeyRefused, bearer, client_address
from web.inputs import (
    APPEAL_BODY_BYTES,
    JSON_MEDIA_TYPE,
    InputRefused,
    check_parameters,
    media_type,
    parse_json,
    read_body,
)
from web.open311.render import Format, render, render_error
from web.ports import AppealPublisher, IntakeUnavailable, TicketReader
from web.throttle import RateLimit

_FORMATS: dict[str, Format] = {"json": "json", "xml": "xml"}
# Safe in a URL path segment as it is, since the token built from it is one.
_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._~-]{1,128}$")
_MAX_FIELDS = 100
_FORM = "application/x-www-form-urlencoded"

NOTICE = "诉求已受理，工单编号在分派后生成，可凭 token 查询办理进度"

Handler = Callable[[Request, Format], Awaitable[Response]]


def _endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Picks the format from the path's extension and answers every failure in the spec's form."""

    async def endpoint(request: Request) -> Response:
        fmt = _FORMATS.get(request.path_params["format"])
        if fmt is None:
            return render_error("json", 404, "format not supported: use .json or .xml")
        try:
            check_parameters(request)  # every id and filter, before any reaches PostgreSQL
            return await handler(request, fmt)
        except Open311Error as exc:
            return render_error(fmt, exc.code, exc.description)
        except InputRefused as refused:
            return render_error(fmt, refused.status, refused.message)
        except KeyRefused as refusal:
            response = render_error(fmt, refusal.status, refusal.message)
            response.headers.update(refusal.headers)
            return response
        except (StoreUnavailable, IntakeUnavailable):
            return render_error(fmt, 503, "temporarily unavailable; retry (with the same Idempotency-Key)")

    return endpoint


async def submitted_fields(request: Request) -> dict[str, str]:
    """The POST's fields: form-encoded as the spec says, or a flat JSON object."""
    media, _ = media_type(request)
    if media not in ("", _FORM, JSON_MEDIA_TYPE):
        raise Open311Error(415, "send application/x-www-form-urlencoded or application/json")
    body = await read_body(request, APPEAL_BODY_BYTES)
    if media == JSON_MEDIA_TYPE:
        return _storable(_flat_json(parse_json(body)))
    try:
        form = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=_MAX_FIELDS)
    except ValueError as exc:  # bad UTF-8, too many fields
        raise Open311Error(400, f"the body cannot be read: {exc}") from exc
    return _storable(dict(form))


def _storable(fields: dict[str, str]) -> dict[str, str]:
    """The fields, or 400 naming the first one that holds a character the store cannot, by the
    client's name for it and the place in what it sent (`WireModel` refuses it too, but in the
    appeal's terms: its text starts with the service's name)."""
    for name, value in fields.items():
        for text in (name, value):
            if (index := refused_character(text)) is not None:
                problem = unstorable_error(text, index).message()
                raise Open311Error(400, f"{escape_refused(name)}: {problem}")
    return fields


def _flat_json(data: object) -> dict[str, str]:
    if not isinstance(data, dict):
        raise Open311Error(400, "the JSON body must be an object of fields")
    flat: dict[str, str] = {}
    for name, value in data.items():
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            flat[str(name)] = str(value)
        elif value is not None:
            raise Open311Error(400, f"{name} must be a string or a number")
    return flat


def _within_appeal_times(query: RequestQuery) -> RequestQuery:
    """The dates cut to the times an appeal may carry (`schemas.appeal`): the same tickets, and
    no date near year 1 or 9999, which PostgreSQL's driver cannot send once in UTC."""

    def cut(moment: datetime | None) -> datetime | None:
        return None if moment is None else min(max(moment, EARLIEST_RECEIVED_AT), LATEST_RECEIVED_AT)

    return replace(query, received_from=cut(query.received_from), received_to=cut(query.received_to))


def source_id_for(request: Request) -> str:
    """A client's Idempotency-Key makes its retries one appeal; without one, each POST is new."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return f"open311-{uuid.uuid4()}"
    if not _IDEMPOTENCY_KEY.match(key):
        raise Open311Error(400, "Idempotency-Key must be 1-128 characters of A-Z a-z 0-9 . _ ~ -")
    return f"open311-{key}"


def open311_routes(
    publisher: AppealPublisher,
    tickets: TicketReader,
    jurisdiction: Jurisdiction,
    gate: IntakeGate,
    reads: RateLimit,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[Route]:
    """`reads` counts the public GETs per address (a city's open-data portal polls; a scraper floods)."""
    api = Open311Api(publisher, tickets, jurisdiction, gate, reads, now)
    return [
        Route("/services.{format}", _endpoint(api.list_services), methods=["GET"]),
        Route("/services/{service_code}.{format}", _endpoint(api.define_service), methods=["GET"]),
        Route("/requests.{format}", _endpoint(api.list_requests), methods=["GET"]),
        Route("/requests.{format}", _endpoint(api.create_request), methods=["POST"]),
        Route("/requests/{request_id}.{format}", _endpoint(api.get_request), methods=["GET"]),
        Route("/tokens/{token}.{format}", _endpoint(api.get_token), methods=["GET"]),
    ]


@dataclass(frozen=True)
class Open311Api:
    """The GeoReport v2 endpoints: the jurisdiction's services, a request posted under an intake
    key, and the public reads of requests (counted per address)."""

    publisher: AppealPublisher
    tickets: TicketReader
    jurisdiction: Jurisdiction
    gate: IntakeGate
    reads: RateLimit
    now: Callable[[], datetime]

    async def list_services(self, request: Request, fmt: Format) -> Response:
        self._check(request)
        return render(fmt, "services", "service", [s.as_fields() for s in services(self.jurisdiction)])

    async def define_service(self, request: Request, fmt: Format) -> Response:
        self._check(request)
        definition = service_definition(request.path_params["service_code"], self.jurisdiction)
        return render(fmt, "service_definition", None, [definition])

    async def create_request(self, request: Request, fmt: Format) -> Response:
        fields = await submitted_fields(request)
        # The spec's `api_key` field (or query parameter); an Authorization: Bearer header too.
        key = fields.pop("api_key", None) or request.query_params.get("api_key") or bearer(request)
        client = await self.gate.admit(request, key)
        source_id = client.source_id(source_id_for(request))
        appeal = appeal_from_request(fields, self.jurisdiction, source_id, self.now(), client.channel)
        await self.publisher.publish(appeal)
        # 200, not 201/202: stock GeoReport clients expect the spec's plain success.
        return render(
            fmt, "service_requests", "request", [{"token": appeal.intake_key, "service_notice": NOTICE}]
        )

    async def list_requests(self, request: Request, fmt: Format) -> Response:
        self._counted(request)
        self._check(request)
        try:
            query = parse_request_query(request.query_params, self.now(), self.jurisdiction.timezone)
        except OverflowError as exc:  # a date near year 1 or 9999: the 90-day window passes datetime's
            raise Open311Error(400, "start_date 或 end_date 超出范围") from exc
        found = await self.tickets.find(_within_appeal_times(query))
        return render(fmt, "service_requests", "request", [self._shown(state) for state in found])

    async def get_request(self, request: Request, fmt: Format) -> Response:
        self._counted(request)
        self._check(request)
        state = await self._lookup(request.path_params["request_id"])
        return render(fmt, "service_requests", "request", [self._shown(state)])

    async def get_token(self, request: Request, fmt: Format) -> Response:
        self._counted(request)
        self._check(request)
        token = request.path_params["token"]
        state = await self._lookup(token)
        return render(
            fmt, "service_requests", "request", [{"service_request_id": state.ticket_id, "token": token}]
        )

    def _counted(self, request: Request) -> None:
        wait = self.reads.admit_address(client_address(request))
        if wait > 0:
            raise KeyRefused(
                429, "too_many_requests", "too many requests from this address; retry later", wait
            )

    def _check(self, request: Request) -> None:
        check_jurisdiction_id(request.query_params.get("jurisdiction_id"), self.jurisdiction)

    def _shown(self, state: TicketState) -> dict[str, FieldValue]:
        return service_request(state, self.jurisdiction).as_fields()

    async def _lookup(self, request_id: str) -> TicketState:
        """A ticket id, or a token (intake key) once the pipeline has opened its ticket."""
        token = split_token(request_id)
        if token is None:
            state = await self.tickets.by_ticket_id(request_id)
        else:
            state = await self.tickets.by_intake_key(*token)
        if state is None:
            raise Open311Error(404, f"service_request_id or token {request_id} not found (yet)")
        return state
