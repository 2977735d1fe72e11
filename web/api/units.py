"""The HTTP API for units without a Kafka client, and for the control room.

Units: `GET /api/units/me/orders` (what they hold now, caller masked) and
`POST /api/units/me/orders/{ticket_id}/actions` (the action they would write to Kafka, put on
their own `units.<unit>.actions`: the token is the unit, as the topic is). Control room:
`POST /api/control/tickets/{ticket_id}/<command>` onto `tickets.commands`, the role from the
token. The API decides nothing about tickets: the ticket agent accepts or rejects (and alerts).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from domain.access import Principal, TokenRole, body_key, control_command, may_command
from domain.jurisdiction import Jurisdiction
from domain.ticket import open_order
from domain.ticket.lifecycle.actions import unit_command_id
from schemas.actions import UNIT_ACTION
from schemas.http_api import (
    CONTROL_ENDPOINTS,
    CONTROL_PATH,
    IDEMPOTENCY_KEY_PATTERN,
    OPENAPI_PATH,
    ORDERS_LIMIT_MAX,
    UNIT_ACTIONS_PATH,
    UNIT_ORDERS_PATH,
    ActionAccepted,
    CommandAccepted,
    ControlEndpoint,
    OpenOrders,
)
from schemas.openapi import openapi_document
from web.api.access import ApiProblem, Handler, guarded, invalid
from web.inputs import read_json
from web.ports import ActionPublisher, OrderReader, TicketReader, TokenVerifier

DEFAULT_ORDERS_LIMIT = 200
UNIT: frozenset[TokenRole] = frozenset({"unit"})
CONTROL_ROOM: frozenset[TokenRole] = frozenset({"control_room", "supervisor"})


@dataclass(frozen=True)
class UnitsApi:
    tokens: TokenVerifier
    publisher: ActionPublisher
    orders: OrderReader
    tickets: TicketReader
    jurisdiction: Jurisdiction
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def unit_of(self, principal: Principal) -> str:
        """The unit the token is; it must be one of the jurisdiction's (it has topics)."""
        if principal.subject not in self.jurisdiction.unit_codes:
            raise ApiProblem(403, "unknown_unit", f"{principal.subject} is not a unit of this jurisdiction")
        return principal.subject


def units_api_routes(api: UnitsApi) -> list[Route]:
    document = openapi_document()

    async def openapi(request: Request) -> Response:
        return JSONResponse(document)

    return [
        Route(UNIT_ORDERS_PATH, guarded(api.tokens, UNIT, _my_orders(api)), methods=["GET"]),
        Route(UNIT_ACTIONS_PATH, guarded(api.tokens, UNIT, _act(api)), methods=["POST"]),
        *(
            Route(
                CONTROL_PATH.replace("{command}", endpoint.path),
                guarded(api.tokens, CONTROL_ROOM, _command(api, endpoint)),
                methods=["POST"],
            )
            for endpoint in CONTROL_ENDPOINTS
        ),
        Route(OPENAPI_PATH, openapi, methods=["GET"]),
    ]


def _my_orders(api: UnitsApi) -> Handler:
    async def handler(request: Request, principal: Principal) -> Response:
        unit = api.unit_of(principal)
        raw = request.query_params.get("limit", str(DEFAULT_ORDERS_LIMIT))
        # isascii(): isdigit() passes "²", which int() refuses; the length: int() refuses 4,300 digits.
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not 1 <= int(raw) <= ORDERS_LIMIT_MAX:
            raise ApiProblem(
                422, "invalid_limit", f"limit must be a whole number from 1 to {ORDERS_LIMIT_MAX}"
            )
        limit = int(raw)
        held = await api.orders.held_by(unit, limit + 1)
        orders = tuple(o for s in held[:limit] if (o := open_order(s, unit, api.jurisdiction)) is not None)
        body = OpenOrders(unit=unit, orders=orders, truncated=len(held) > limit)
        return JSONResponse(body.model_dump(mode="json"))

    return handler


def _act(api: UnitsApi) -> Handler:
    async def handler(request: Request, principal: Principal) -> Response:
        unit = api.unit_of(principal)
        ticket_id = request.path_params["ticket_id"]
        data = await read_json(request)
        try:
            action = UNIT_ACTION.validate_python(data)
        except ValidationError as exc:
            raise invalid("invalid_action", "the action was not accepted", exc) from None
        if action.ticket_id != ticket_id:
            message = f"the body's ticket_id {action.ticket_id} is not the path's {ticket_id}"
            raise ApiProblem(422, "ticket_mismatch", message)
        await api.publisher.publish_action(unit, action)
        accepted = ActionAccepted(
            ticket_id=ticket_id,
            action_id=action.action_id,
            command_id=unit_command_id(unit, action.action_id),
        )
        return JSONResponse(accepted.model_dump(mode="json"), status_code=202)

    return handler


def _command(api: UnitsApi, endpoint: ControlEndpoint) -> Handler:
    key_pattern = re.compile(IDEMPOTENCY_KEY_PATTERN)

    async def handler(request: Request, principal: Principal) -> Response:
        may_command(principal, endpoint.command)  # a role that may not is told so before anything else
        ticket_id = request.path_params["ticket_id"]
        key = request.headers.get("idempotency-key")
        if key is not None and not key_pattern.fullmatch(key):
            raise ApiProblem(
                422, "invalid_idempotency_key", f"Idempotency-Key must match {IDEMPOTENCY_KEY_PATTERN}"
            )
        data = await read_json(request)
        try:
            body = endpoint.request.model_validate(data)
        except ValidationError as exc:
            raise invalid("invalid_command", f"the {endpoint.path} request was not accepted", exc) from None
        fields = body.model_dump()
        if endpoint.path == "merge":
            source = await api.tickets.by_ticket_id(fields["source_ticket_id"])
            if source is None:
                raise ApiProblem(404, "not_found", f"no ticket {fields['source_ticket_id']} to merge")
            fields["source_appeal"] = source.appeal
        try:
            command = control_command(
                principal, endpoint.command, ticket_id, fields, key or body_key(body), api.now()
            )
        except ValidationError as exc:  # what the API fills in: the path's ticket id, the token's name
            raise invalid("invalid_command", f"the {endpoint.path} command cannot be given", exc) from None
        await api.publisher.publish_command(command)
        accepted = CommandAccepted(ticket_id=ticket_id, command_id=command.command_id, type=command.type)
        return JSONResponse(accepted.model_dump(mode="json"), status_code=202)

    return handler
