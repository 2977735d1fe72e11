"""The control room (first page) and the health endpoint."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from infra.intake_producer import AiokafkaAppealProducer
from infra.readiness import group_has_members
from infra.reference import load_jurisdiction
from infra.store import AsyncpgTicketStore
from infra.ticket_queries import AsyncpgTicketQueries
from streams.names import TopicNames
from streams.settings import Settings
from web.intake import intake_routes
from web.open311 import open311_routes
from web.ports import AppealPublisher

STATIC = Path(__file__).parent / "static"


def create_web_app(settings: Settings, publisher: AppealPublisher | None = None) -> Starlette:
    """The control room, health, HTTP intake and Open311; `publisher` defaults to real Kafka."""
    store = AsyncpgTicketStore(settings.database_url)
    jurisdiction = load_jurisdiction(settings.jurisdiction_file)
    names = TopicNames(settings.topic_prefix)
    group_id = names.app_id
    intake = publisher or AiokafkaAppealProducer(settings.kafka_bootstrap_servers, names.intake)
    tickets = AsyncpgTicketQueries(store)

    async def health(request: Request) -> Response:
        database = await store.ping()
        pipeline = await group_has_members(settings.kafka_bootstrap_servers, group_id)
        ok = database and pipeline
        body = {"status": "ok" if ok else "starting", "database": database, "pipeline": pipeline}
        return JSONResponse(body, status_code=200 if ok else 503)

    async def queues(request: Request) -> Response:
        rows = await store.open_tickets_by_unit()
        units: dict[str, dict[str, Any]] = {}
        for row in rows:
            code = row["lead_unit"] or "hotline"
            unit = units.setdefault(code, {"unit": code, "name": jurisdiction.unit_name(code), "counts": {}})
            unit["counts"][row["status"]] = row["n"]
        recent = await store.recent_open_tickets(30)
        for ticket in recent:
            ticket["received_at"] = ticket["received_at"].isoformat()
            ticket["lead_name"] = (
                jurisdiction.unit_name(ticket["lead_unit"]) if ticket["lead_unit"] else "人工派单"
            )
        return JSONResponse({"units": list(units.values()), "recent": recent})

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await intake.start()
        try:
            yield
        finally:
            await intake.stop()
            await store.close()

    return Starlette(
        routes=[
            Route("/", index),
            Route("/health", health),
            Route("/api/queues", queues),
            *intake_routes(intake, tickets, jurisdiction),
            Mount("/open311/v2", routes=open311_routes(intake, tickets, jurisdiction)),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        lifespan=lifespan,
    )
