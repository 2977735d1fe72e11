"""The control room (first page), the operator's desk (/desk) and the health endpoint."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from domain.access import Principal
from domain.privacy.masking import shown_text
from domain.triage import Triager
from infra.kafka.action_producer import AiokafkaActionProducer
from infra.kafka.intake_producer import AiokafkaAppealProducer
from infra.kafka.readiness import group_has_members
from infra.postgres.desk_queries import AsyncpgCallerHistory
from infra.postgres.kb_store import AsyncpgKbStore, KbIndex
from infra.postgres.ops_queries import AsyncpgOpsQueries
from infra.postgres.order_queries import AsyncpgOrderQueries
from infra.postgres.reports import StoreReports
from infra.postgres.store import AsyncpgTicketStore
from infra.postgres.ticket_queries import AsyncpgTicketQueries
from infra.postgres.tokens import AsyncpgTokenStore
from infra.reference import load_jurisdiction, load_reference_files
from streams.names import TopicNames
from streams.settings import Settings
from web.api.intake import intake_routes
from web.api.intake_keys import intake_gate
from web.api.kb import KbApi, kb_search_route, kb_unit_routes
from web.api.units import UnitsApi, units_api_routes
from web.desk.routes import Desk, DeskTriage, desk_routes
from web.open311.routes import open311_routes
from web.ops import metrics_route
from web.ports import ActionPublisher, AppealPublisher, KbSearcher
from web.reports.routes import report_routes
from web.room.routes import room_routes
from web.room.setup import create_control_room
from web.security import SecurityMiddleware
from web.throttle import RateLimit

STATIC = Path(__file__).parent / "static"


def worker_triager(settings: Settings) -> Triager:
    """The worker's triager: the same files, the same cache (trained once, by whoever is first)."""
    return load_reference_files(settings.jurisdiction_file, settings.cache_dir, datetime.now(UTC)).router


def create_web_app(
    settings: Settings,
    publisher: AppealPublisher | None = None,
    actions: ActionPublisher | None = None,
    kb: KbSearcher | None = None,
) -> Starlette:
    """The control room, the desk, health, HTTP intake, Open311 and the units' API; publishers
    default to real Kafka; the desk searches `kb`, or the store's knowledge base when None."""
    store = AsyncpgTicketStore(settings.database_url)
    jurisdiction = load_jurisdiction(settings.jurisdiction_file)
    names = TopicNames(settings.topic_prefix)
    group_id = names.app_id
    intake = publisher or AiokafkaAppealProducer(settings.kafka, names.intake)
    tickets = AsyncpgTicketQueries(store)
    api_producer = actions or AiokafkaActionProducer(settings.kafka, names)
    keys = AsyncpgTokenStore(store)
    gate = intake_gate(keys, settings.intake_per_key_per_minute, settings.intake_per_address_per_minute)
    open311_reads = RateLimit(per_address=settings.open311_reads_per_address_per_minute)
    units_api = UnitsApi(
        tokens=keys,
        publisher=api_producer,
        orders=AsyncpgOrderQueries(store),
        tickets=tickets,
        jurisdiction=jurisdiction,
    )

    kb_store = AsyncpgKbStore(store)
    zone = ZoneInfo(jurisdiction.timezone)
    kb_index = KbIndex(
        kb_store,
        {category.code: category.name for category in jurisdiction.categories},
        today=lambda: datetime.now(zone).date(),  # validity is by the jurisdiction's calendar day
    )

    room = create_control_room(settings, store, jurisdiction, api_producer)
    desk = Desk(
        sessions=room.sessions,
        publisher=intake,
        tickets=tickets,
        history=AsyncpgCallerHistory(store),
        triage=DeskTriage(partial(worker_triager, settings)),
        jurisdiction=jurisdiction,
        kb=kb if kb is not None else kb_index,
    )
    # /metrics here, not on the workers, reads open and overdue tickets: counted once.
    ops_queries = AsyncpgOpsQueries(settings.database_url)

    async def health(request: Request) -> Response:
        database = await store.ping()
        pipeline = await group_has_members(settings.kafka, group_id)
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
        rows = await store.open_tickets_by_unit()
        units: dict[str, dict[str, Any]] = {}
        for row in rows:
            code = row["lead_unit"] or "hotline"
            unit = units.setdefault(code, {"unit": code, "name": jurisdiction.unit_name(code), "counts": {}})
            unit["counts"][row["status"]] = row["n"]
        recent = await store.recent_open_tickets(30)
        for ticket in recent:
            state = ticket.pop("state")
            ticket["received_at"] = ticket["received_at"].isoformat()
            ticket["text"] = shown_text(state)
            ticket["lead_name"] = (
                jurisdiction.unit_name(ticket["lead_unit"]) if ticket["lead_unit"] else "人工派单"
            )
        return JSONResponse({"units": list(units.values()), "recent": recent})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await intake.start()
        await api_producer.start()
        await room.live.start()
        try:
            yield
        finally:
            await room.live.stop()
            await api_producer.stop()
            await intake.stop()
            await store.close()
            await ops_queries.close()

    return Starlette(
        routes=[
            *room_routes(room),
            *desk_routes(desk),
            Route("/health", health),
            metrics_route(ops_queries),
            Route("/api/queues", room.sessions.required(queues)),
            *report_routes(StoreReports(jurisdiction), store.pool, room.sessions.required),
            *intake_routes(intake, tickets, jurisdiction, gate),
            Mount("/open311/v2", routes=open311_routes(intake, tickets, jurisdiction, gate, open311_reads)),
            *units_api_routes(units_api),
            kb_search_route(kb_index, jurisdiction, room.sessions.required),
            *kb_unit_routes(KbApi(tokens=keys, kb=kb_store, jurisdiction=jurisdiction)),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[Middleware(SecurityMiddleware)],  # headers on every answer; room: same origin
        lifespan=lifespan,
    )
