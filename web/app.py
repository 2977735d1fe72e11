"""The web app: the control room (first page), the operator's desk (/desk), health, HTTP intake,
Open311, reports, the knowledge base and the units' API, over the ports it is handed."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from domain.access import Principal
from domain.privacy import shown_text
from streams.settings import Settings
from web.api.intake import intake_routes
from web.api.intake_keys import intake_gate
from web.api.kb import KbApi, kb_search_route, kb_unit_routes
from web.api.units import UnitsApi, units_api_routes
from web.desk.routes import Desk, DeskTriage, desk_routes
from web.open311.routes import open311_routes
from web.ops import metrics_route
from web.ports import WebPorts
from web.reports.routes import report_routes
from web.room.routes import ControlRoom, room_routes
from web.room.setup import create_control_room
from web.security import SecurityMiddleware
from web.throttle import RateLimit

STATIC = Path(__file__).parent / "static"
RECENT_SHOWN = 30  # the newest open tickets `/api/queues` lists


def create_web_app(settings: Settings, ports: WebPorts) -> Starlette:
    """The whole web side over `ports` (`shaobao.web_wiring.web_ports` builds the real ones);
    `settings` gives the room's password and the intake's rate limits."""
    room = create_control_room(settings, ports.room, ports.jurisdiction, ports.actions)
    desk = Desk(
        sessions=room.sessions,
        publisher=ports.appeals,
        tickets=ports.tickets,
        history=ports.callers,
        triage=DeskTriage(ports.triager),
        jurisdiction=ports.jurisdiction,
        kb=ports.desk_kb,
    )
    return Starlette(
        routes=[
            *room_routes(room),
            *desk_routes(desk),
            *_ops_routes(ports, room),
            *_api_routes(settings, ports, room),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[Middleware(SecurityMiddleware)],  # headers on every answer; room: same origin
        lifespan=_lifespan(ports, room),
    )


def _lifespan(ports: WebPorts, room: ControlRoom) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await ports.appeals.start()
        await ports.actions.start()
        await room.live.start()
        try:
            yield
        finally:
            await room.live.stop()
            await ports.actions.stop()
            await ports.appeals.stop()
            for resource in ports.closing:
                await resource.close()

    return lifespan


def _ops_routes(ports: WebPorts, room: ControlRoom) -> list[BaseRoute]:
    """`/health`, `/metrics` and the room's queue counts."""

    async def health(request: Request) -> Response:
        database = await ports.health.database()
        pipeline = await ports.health.pipeline()
        room_live = room.live.ready.is_set()  # the control room has its snapshot and reads the topics
        ok = database and pipeline and room_live
        body = {
            "status": "ok" if ok else "starting",
            "database": database,
            "pipeline": pipeline,
            "control_room": room_live,
        }
        return JSONResponse(body, status_code=200 if ok else 503)

    async def queues(request: Request, _principal: Principal) -> Response:
        # Behind the control room's login: the newest tickets' text is citizens' words.
        return JSONResponse(await _queues(ports))

    return [
        Route("/health", health),
        # /metrics here, not on the workers, reads open and overdue tickets: counted once.
        metrics_route(ports.ops),
        Route("/api/queues", room.sessions.required(queues)),
    ]


async def _queues(ports: WebPorts) -> dict[str, Any]:
    """Open tickets by lead unit and status, and the newest ones with what of them may be shown."""
    jurisdiction = ports.jurisdiction
    units: dict[str, dict[str, Any]] = {}
    for row in await ports.queues.open_tickets_by_unit():
        code = row["lead_unit"] or "hotline"
        unit = units.setdefault(code, {"unit": code, "name": jurisdiction.unit_name(code), "counts": {}})
        unit["counts"][row["status"]] = row["n"]
    recent = await ports.queues.recent_open_tickets(RECENT_SHOWN)
    for ticket in recent:
        state = ticket.pop("state")
        ticket["received_at"] = ticket["received_at"].isoformat()
        ticket["text"] = shown_text(state)
        ticket["lead_name"] = (
            jurisdiction.unit_name(ticket["lead_unit"]) if ticket["lead_unit"] else "人工派单"
        )
    return {"units": list(units.values()), "recent": recent}


def _api_routes(settings: Settings, ports: WebPorts, room: ControlRoom) -> list[BaseRoute]:
    """Reports, HTTP intake and Open311 (one gate for both), the units' API, the knowledge base."""
    jurisdiction = ports.jurisdiction
    gate = intake_gate(
        ports.tokens, settings.intake_per_key_per_minute, settings.intake_per_address_per_minute
    )
    open311_reads = RateLimit(per_address=settings.open311_reads_per_address_per_minute)
    units_api = UnitsApi(
        tokens=ports.tokens,
        publisher=ports.actions,
        orders=ports.orders,
        tickets=ports.tickets,
        jurisdiction=jurisdiction,
    )
    return [
        *report_routes(ports.reports, room.sessions.required),
        *intake_routes(ports.appeals, ports.tickets, jurisdiction, gate),
        Mount(
            "/open311/v2",
            routes=open311_routes(ports.appeals, ports.tickets, jurisdiction, gate, open311_reads),
        ),
        *units_api_routes(units_api),
        kb_search_route(ports.kb, jurisdiction, room.sessions.required),
        *kb_unit_routes(KbApi(tokens=ports.tokens, kb=ports.kb_entries, jurisdiction=jurisdiction)),
    ]
