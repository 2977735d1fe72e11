"""The operator's desk (坐席): live triage and knowledge-base answers as the operator types,
the caller's history by phone, and the appeal put on `appeals.intake` with the decision.

Every route needs a session of the room's login held by an operator, a control-room person or
a supervisor (`DESK_ROLES`). The appeal goes the web intake's way (`AppealPublisher`), with
`Appeal.desk` naming the session's holder as the operator; the pipeline honours the decision.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pydantic import Field, ValidationError
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from agents.ports import StoreUnavailable
from domain.access import Principal
from domain.desk import phone_digits
from domain.jurisdiction import Jurisdiction
from domain.triage import Triager
from schemas.appeal import MAX_TEXT_CHARS, Appeal, Channel
from schemas.base import WireModel, is_unstorable
from schemas.kb import KbMatch
from web.api.intake import field_errors
from web.desk.input import PHONE_RULE, DeskRefused, desk_appeal
from web.desk.render import history_json, kb_json, reference_json, triage_json
from web.inputs import APPEAL_BODY_BYTES, InputRefused, check_parameters, read_json
from web.ports import AppealPublisher, CallerHistory, IntakeUnavailable, KbSearcher, TicketReader
from web.room.auth import DESK_ROLES, RoomSessions

STATIC = Path(__file__).parent.parent / "static"
NO_STORE = {"Cache-Control": "no-store"}
KB_SHOWN = 3
HISTORY_SHOWN = 20
# How long an accepted appeal waits for its ticket before answering without its id (the
# page then follows it): the pipeline usually opens it well within a second.
TICKET_WAIT_S = 3.0
_TICKET_POLL_S = 0.2
Handler = Callable[[Request, Principal], Awaitable[Response]]


class TriageRequest(WireModel):
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    address: str = Field(default="", max_length=500)
    channel: Channel = "phone"


class DeskTriage:
    """The triager the worker uses, loaded once (from the worker's cache when it is there) in a
    thread on first use: training it takes seconds of CPU the event loop must not spend."""

    def __init__(self, load: Callable[[], Triager]) -> None:
        self._load = load
        self._triager: Triager | None = None
        self._lock = asyncio.Lock()

    async def triager(self) -> Triager:
        async with self._lock:
            if self._triager is None:
                self._triager = await asyncio.to_thread(self._load)
            return self._triager


def system_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Desk:
    sessions: RoomSessions
    publisher: AppealPublisher
    tickets: TicketReader
    history: CallerHistory
    triage: DeskTriage
    jurisdiction: Jurisdiction
    kb: KbSearcher | None = None  # no knowledge base wired: the desk shows no answers
    now: Callable[[], datetime] = field(default=system_now)
    ticket_wait_s: float = TICKET_WAIT_S


def desk_routes(desk: Desk) -> list[Route]:
    def need(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        return desk.sessions.required(handler, DESK_ROLES)

    async def page(request: Request) -> Response:
        return await _page(desk, request)

    async def me(request: Request, principal: Principal) -> Response:
        return JSONResponse({"operator": principal.subject, "role": principal.role})

    async def reference(request: Request, principal: Principal) -> Response:
        return JSONResponse(reference_json(desk.jurisdiction))

    async def triage(request: Request, principal: Principal) -> Response:
        return await _triage(desk, request)

    async def history(request: Request, principal: Principal) -> Response:
        return await _history(desk, request)

    async def submit(request: Request, principal: Principal) -> Response:
        return await _submit(desk, request, principal)

    async def follow(request: Request, principal: Principal) -> Response:
        return await _follow(desk, request)

    return [
        Route("/desk", page),
        Route("/api/desk/me", need(me)),
        Route("/api/desk/reference", need(reference)),
        Route("/api/desk/triage", need(triage), methods=["POST"]),
        Route("/api/desk/history", need(history)),
        Route("/api/desk/appeals", need(submit), methods=["POST"]),
        Route("/api/desk/appeals/{channel}/{id}", need(follow)),
    ]


async def _page(desk: Desk, request: Request) -> Response:
    """The desk's page for a session of `DESK_ROLES`; the login page otherwise."""
    try:
        holder = await desk.sessions.principal(request)
    except StoreUnavailable:
        holder = None  # the login page says what is wrong when the database answers again
    if holder is None or holder.role not in DESK_ROLES:
        return RedirectResponse("/login", status_code=303)
    return FileResponse(STATIC / "desk.html", headers=NO_STORE)


async def _follow(desk: Desk, request: Request) -> Response:
    """The ticket of an appeal the desk put in, once the pipeline has opened it."""
    try:
        check_parameters(request)
        state = await desk.tickets.by_intake_key(request.path_params["channel"], request.path_params["id"])
    except InputRefused as refused:
        return JSONResponse({"error": refused.message}, status_code=refused.status)
    except StoreUnavailable:
        return JSONResponse({"error": "数据库暂不可用，请稍后重试"}, status_code=503)
    if state is None:
        return JSONResponse({"error": "工单尚未生成"}, status_code=404, headers=NO_STORE)
    return JSONResponse({"ticket_id": state.ticket_id}, headers=NO_STORE)


async def _triage(desk: Desk, request: Request) -> Response:
    try:
        body = TriageRequest.model_validate(await read_json(request, APPEAL_BODY_BYTES))
    except InputRefused as refused:
        return JSONResponse({"error": f"分拣请求无效：{refused.message}"}, status_code=refused.status)
    except ValidationError as exc:
        found = "；".join(f"{e['field']}: {e['message']}" for e in field_errors(exc))
        return JSONResponse(
            {"error": f"分拣请求无效：{found}"}, status_code=400 if is_unstorable(exc) else 422
        )
    appeal = Appeal(
        channel=body.channel,
        source_id="desk-preview",
        received_at=desk.now(),
        text=body.text,
        address=body.address,
    )
    triager = await desk.triage.triager()
    decision = triager.decide(appeal)
    matches: tuple[KbMatch, ...] = ()
    available = desk.kb is not None
    if desk.kb is not None:
        try:
            matches = await desk.kb.search(body.text, limit=KB_SHOWN)
        except StoreUnavailable:
            available = False  # triage still shows; the page says the knowledge base is not there
    return JSONResponse(
        {
            "triage": triage_json(decision, desk.jurisdiction),
            "kb": [kb_json(match, desk.jurisdiction) for match in matches[:KB_SHOWN]],
            "kb_available": available,
        },
        headers=NO_STORE,
    )


async def _history(desk: Desk, request: Request) -> Response:
    phone = request.query_params.get("phone", "").strip()
    digits = phone_digits(phone)
    if digits is None:
        return JSONResponse({"error": PHONE_RULE}, status_code=400)
    try:
        tickets = await desk.history.by_phone(digits, HISTORY_SHOWN)
    except StoreUnavailable:
        return JSONResponse({"error": "数据库暂不可用，请稍后重试"}, status_code=503)
    return JSONResponse(history_json(tickets, desk.jurisdiction, desk.now()), headers=NO_STORE)


async def _submit(desk: Desk, request: Request, principal: Principal) -> Response:
    try:
        body = await read_json(request, APPEAL_BODY_BYTES)
        appeal = desk_appeal(body, principal.subject, desk.jurisdiction, desk.now())
    except InputRefused as refused:
        return JSONResponse({"error": refused.code, "message": refused.message}, status_code=refused.status)
    except DeskRefused as refused:
        return JSONResponse(refused.body(), status_code=refused.status)
    try:
        await desk.publisher.publish(appeal)
    except IntakeUnavailable:
        return JSONResponse(
            {"error": "intake_unavailable", "message": "Kafka 暂不可用，未能受理，请重试"},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    ticket_id = await _ticket_of(desk, appeal)
    accepted = {
        "intake_key": appeal.intake_key,
        "channel": appeal.channel,
        "source_id": appeal.source_id,
        "ticket_id": ticket_id,
        "follow_url": f"/api/desk/appeals/{appeal.channel}/{appeal.source_id}",
    }
    return JSONResponse(accepted, status_code=202)


async def _ticket_of(desk: Desk, appeal: Appeal) -> str | None:
    """The ticket the pipeline opened for `appeal`, if it does so within `ticket_wait_s`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + desk.ticket_wait_s
    while True:
        try:
            state = await desk.tickets.by_intake_key(appeal.channel, appeal.source_id)
        except StoreUnavailable:
            return None  # accepted all the same: the page follows it
        if state is not None:
            return state.ticket_id
        if loop.time() >= deadline:
            return None
        await asyncio.sleep(_TICKET_POLL_S)
