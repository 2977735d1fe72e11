"""The control room's pages and API: login, the live stream, the board, tickets, dispatch.

Every `/api/room/*` route and `/api/stream` needs the session cookie. Manual dispatch builds
the very command the control-room HTTP API builds (`domain.access.control_command`) and puts
it on `tickets.commands` through the same publisher; the ticket agent decides the rest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from agents.ports import StoreUnavailable
from domain.access import Forbidden, Principal, control_command
from domain.jurisdiction import Jurisdiction
from domain.room import TicketFilter, find_tickets
from domain.ticket import TicketStatus
from schemas.base import UNSTORABLE, WireModel, is_unstorable
from schemas.commands import ControlCommand, DeclareConfidential, DispatchTicket
from web.api.intake import field_errors
from web.inputs import InputRefused, check_parameters, read_json
from web.ports import ActionPublisher, PublishUnavailable, RoomQueries
from web.room.auth import ROOM_ROLES, RoomSessions
from web.room.live import RoomLive, to_json
from web.room.render import reference, ticket_page

STATIC = Path(__file__).parent.parent / "static"
KEEPALIVE_S = 15.0
NO_STORE = {"Cache-Control": "no-store"}


class DispatchRequest(WireModel):
    """人工派单 from the room: to `lead` (and `co`), category and town as corrected; `version`
    is the ticket version the operator saw, so a second click sends the same command."""

    lead: str = Field(min_length=1)
    co: tuple[str, ...] = ()
    category: str | None = None
    town: str | None = None
    version: int = Field(ge=1)


class ConfidentialRequest(WireModel):
    """声明保密 from the room: why the caller is withheld from now on."""

    reason: str = Field(min_length=1, max_length=500)


@dataclass(frozen=True)
class ControlRoom:
    live: RoomLive
    queries: RoomQueries
    sessions: RoomSessions
    publisher: ActionPublisher
    jurisdiction: Jurisdiction


def room_routes(room: ControlRoom) -> list[Route]:
    """The login and the room's page, the live board and stream, the tickets and what the room
    does to them."""
    return [*_page_routes(room), *_live_routes(room), *_ticket_routes(room)]


def _page_routes(room: ControlRoom) -> list[Route]:
    need = room.sessions.required

    async def index(request: Request) -> Response:
        try:
            holder = await room.sessions.principal(request)
        except StoreUnavailable:
            holder = None  # the login page says what is wrong when the database answers again
        if holder is None:
            return RedirectResponse("/login", status_code=303)
        if holder.role not in ROOM_ROLES:
            return RedirectResponse("/desk", status_code=303)  # an operator's page is the desk
        return FileResponse(STATIC / "index.html", headers=NO_STORE)

    async def login_page(request: Request) -> Response:
        return FileResponse(STATIC / "login.html", headers=NO_STORE)

    async def me(request: Request, principal: Principal) -> Response:
        return JSONResponse({"operator": principal.subject, "role": principal.role})

    async def ref(request: Request, principal: Principal) -> Response:
        return JSONResponse(reference(room.jurisdiction))

    return [
        Route("/", index),
        Route("/login", login_page),
        Route("/api/room/login", room.sessions.login, methods=["POST"]),
        Route("/api/room/logout", room.sessions.logout, methods=["POST"]),
        Route("/api/room/me", need(me)),
        Route("/api/room/reference", need(ref)),
    ]


def _live_routes(room: ControlRoom) -> list[Route]:
    need = room.sessions.required

    async def board(request: Request, principal: Principal) -> Response:
        message = room.live.board_message()
        return Response(
            message.split("data: ", 1)[1].strip(), media_type="application/json", headers=NO_STORE
        )

    async def stream(request: Request, principal: Principal) -> Response:
        return StreamingResponse(
            _events(room.live, request),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return [Route("/api/room/board", need(board)), Route("/api/stream", need(stream))]


def _ticket_routes(room: ControlRoom) -> list[Route]:
    need = room.sessions.required

    async def tickets(request: Request, principal: Principal) -> Response:
        q = request.query_params
        wanted = TicketFilter(
            unit=q.get("unit", ""),
            town=q.get("town", ""),
            category=q.get("category", ""),
            status=q.get("status", ""),
            text=q.get("text", "").strip()[:100],
        )
        rows = find_tickets(room.live.view.tickets.values(), wanted)
        return JSONResponse({"tickets": to_json(rows)}, headers=NO_STORE)

    async def ticket(request: Request, principal: Principal) -> Response:
        return await _ticket(room, request)

    async def dispatch(request: Request, principal: Principal) -> Response:
        return await _dispatch(room, request, principal)

    async def confidential(request: Request, principal: Principal) -> Response:
        return await _declare_confidential(room, request, principal)

    async def dead_letters(request: Request, principal: Principal) -> Response:
        try:
            total, letters = await room.queries.dead_letters()
        except StoreUnavailable:
            return JSONResponse({"error": "数据库暂不可用"}, status_code=503)
        shown = [letter.model_dump(mode="json", exclude={"key", "value"}) for letter in letters]
        return JSONResponse({"total": total, "letters": shown}, headers=NO_STORE)

    return [
        Route("/api/room/tickets", need(tickets)),
        Route("/api/room/tickets/{ticket_id}", need(ticket)),
        Route("/api/room/tickets/{ticket_id}/dispatch", need(dispatch), methods=["POST"]),
        Route("/api/room/tickets/{ticket_id}/confidential", need(confidential), methods=["POST"]),
        Route("/api/room/dead-letters", need(dead_letters)),
    ]


async def _ticket(room: ControlRoom, request: Request) -> Response:
    """One ticket's page: from the live view when it holds it, else from the store, with its timeline."""
    ticket_id = request.path_params["ticket_id"]
    try:
        check_parameters(request)
        held = room.live.view.tickets.get(ticket_id)
        found = [held] if held else await room.queries.tickets([ticket_id])
        if not found:
            return JSONResponse({"error": "没有这张工单"}, status_code=404)
        timeline = await room.queries.timeline(ticket_id)
    except InputRefused as refused:
        return JSONResponse({"error": refused.message}, status_code=refused.status)
    except StoreUnavailable:
        return JSONResponse({"error": "数据库暂不可用"}, status_code=503)
    return JSONResponse(ticket_page(found[0], timeline, room.jurisdiction), headers=NO_STORE)


async def _events(live: RoomLive, request: Request) -> AsyncIterator[str]:
    subscriber = live.subscribe()
    try:
        yield "retry: 1000\n\n" + live.board_message()
        while not await request.is_disconnected():
            messages = await subscriber.next(KEEPALIVE_S)
            yield "".join(messages) or ": keepalive\n\n"
    finally:
        live.unsubscribe(subscriber)


async def _dispatch(room: ControlRoom, request: Request, principal: Principal) -> Response:
    ticket_id = request.path_params["ticket_id"]
    try:
        body = DispatchRequest.model_validate(await read_json(request))
    except InputRefused as refused:
        return JSONResponse({"error": f"派单请求无效：{refused.message}"}, status_code=refused.status)
    except ValidationError as exc:
        if is_unstorable(exc):
            return _unstorable(exc)
        return JSONResponse({"error": "派单请求无效：需要 lead 与 version"}, status_code=422)
    held = room.live.view.tickets.get(ticket_id)
    if held is None or held.state.status != TicketStatus.MANUAL:
        return JSONResponse({"error": "该工单不在人工派单队列中"}, status_code=409)
    fields: dict[str, Any] = body.model_dump(exclude={"version"})
    return await _publish(
        room, principal, DispatchTicket, ticket_id, fields, f"room-v{body.version}", "派单请求"
    )


async def _publish(
    room: ControlRoom,
    principal: Principal,
    kind: type[ControlCommand],
    ticket_id: str,
    fields: dict[str, Any],
    idempotency_key: str,
    what: str,
) -> Response:
    """The room's command on `tickets.commands` (202), or why not; the same key acts once."""
    try:
        command = control_command(principal, kind, ticket_id, fields, idempotency_key, room.live.now())
        await room.publisher.publish_command(command)
    except ValidationError as exc:
        if not is_unstorable(exc):
            raise
        return _unstorable(exc, what)  # the operator's name as typed at login (`RoomSessions.login`)
    except Forbidden as exc:
        return JSONResponse({"error": exc.reason}, status_code=403)
    except PublishUnavailable:
        return JSONResponse({"error": "Kafka 暂不可用，请重试"}, status_code=503)
    return JSONResponse({"ticket_id": ticket_id, "command_id": command.command_id}, status_code=202)


async def _declare_confidential(room: ControlRoom, request: Request, principal: Principal) -> Response:
    """声明保密: the caller is withheld from units and the public from now on; a second click acts once."""
    ticket_id = request.path_params["ticket_id"]
    try:
        body = ConfidentialRequest.model_validate(await read_json(request))
    except InputRefused as refused:
        return JSONResponse({"error": f"保密声明无效：{refused.message}"}, status_code=refused.status)
    except ValidationError as exc:
        if is_unstorable(exc):
            return _unstorable(exc, "保密声明")
        return JSONResponse({"error": "保密声明无效：请填写原因（1–500 字）"}, status_code=422)
    if ticket_id not in room.live.view.tickets:
        return JSONResponse({"error": "控制室当前没有这张工单"}, status_code=404)
    fields = {"reason": body.reason}
    return await _publish(
        room, principal, DeclareConfidential, ticket_id, fields, "room-confidential", "保密声明"
    )


def _unstorable(exc: ValidationError, what: str = "派单请求") -> JSONResponse:
    """400 naming each field holding a character the store cannot, in the room's own form."""
    found = "；".join(f"{e['field']}: {e['message']}" for e in field_errors(exc) if e["type"] == UNSTORABLE)
    return JSONResponse({"error": f"{what}无效：{found}"}, status_code=400)
