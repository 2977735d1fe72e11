"""The ops endpoints: `/metrics` (Prometheus text), `/health` (the process answers) and
`/ready` (it can do its work). The worker serves `create_ops_app` on its web port, inside its
own event loop (`faust.contrib.asgi.serve_asgi`); the control-room process adds
`metrics_route` to its own routes and keeps its own `/health`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from streams import metrics
from web.ports import OpsQueries, Readiness

log = logging.getLogger(__name__)
QUERY_TIMEOUT_S = 3.0


def metrics_route(queries: OpsQueries | None = None) -> Route:
    """`GET /metrics`. With `queries`, the open-ticket and overdue gauges are read from
    PostgreSQL at each scrape (two grouped counts), so they are as fresh as the scrape and cost
    nothing between scrapes. Give it to one process only: two would report the same tickets
    twice."""

    async def scrape(request: Request) -> Response:
        if queries is not None:
            await _refresh(queries.open_tickets_by_status, metrics.set_open_tickets, "open tickets")
            await _refresh(queries.overdue_tickets_by_unit, metrics.set_overdue, "overdue tickets")
        return Response(metrics.render(), media_type=metrics.CONTENT_TYPE)

    return Route("/metrics", scrape, methods=["GET"])


async def _refresh(
    read: Callable[[], Awaitable[dict[str, int]]], update: Callable[[dict[str, int]], None], what: str
) -> None:
    try:
        counts = await asyncio.wait_for(read(), QUERY_TIMEOUT_S)
    except Exception as exc:  # noqa: BLE001 - a scrape must answer even when PostgreSQL does not
        # The gauges keep their last values; the error is what the alert rules watch.
        metrics.STORE_ERRORS.labels("ops_query", type(exc).__name__).inc()
        log.warning("%s unavailable for /metrics: %s", what, exc)
        return
    update(counts)


def create_ops_app(readiness: Callable[[], Readiness], queries: OpsQueries | None = None) -> Starlette:
    """`/metrics`, `/health` (200 while the process serves) and `/ready` (200 or 503 with why)."""

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def ready(request: Request) -> Response:
        state = readiness()
        return JSONResponse(state.as_dict(), status_code=200 if state.ready else 503)

    return Starlette(
        routes=[
            metrics_route(queries),
            Route("/health", health, methods=["GET"]),
            Route("/ready", ready, methods=["GET"]),
        ]
    )
