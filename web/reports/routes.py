"""`GET /api/reports/{period}?date=&format=&weight=`: the periodic report over HTTP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from domain.reporting import PeriodKind, RateWeights, Report
from schemas.appeal import EARLIEST_RECEIVED_AT, LATEST_RECEIVED_AT
from web.ports import ReportSource
from web.reports.files import render_csv, render_json, render_xlsx
from web.reports.html import render_html

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("html", "json", "csv", "xlsx")


def render(report_format: str, report: Report, now: datetime) -> tuple[bytes, str]:
    """The report's bytes and media type in one of `FORMATS`."""
    match report_format:
        case "html":
            return render_html(report, now).encode(), "text/html; charset=utf-8"
        case "json":
            return render_json(report).encode(), "application/json"
        case "csv":
            return render_csv(report).encode(), "text/csv; charset=utf-8"
    return render_xlsx(report, now), XLSX


Handler = Callable[[Request, Any], Awaitable[Response]]


def report_routes(
    reports: ReportSource,
    guard: Callable[[Handler], Callable[[Request], Awaitable[Response]]] | None = None,
) -> list[Route]:
    """The report route; `guard` (the control room's login) lets only a signed-in person read it:
    its outstanding list quotes what citizens wrote."""

    async def report(request: Request, principal: Any = None) -> Response:
        kind, report_format = request.path_params["period"], request.query_params.get("format", "html")
        if kind not in {k.value for k in PeriodKind} or report_format not in FORMATS:
            return JSONResponse({"error": f"period: {[k.value for k in PeriodKind]}, format: {FORMATS}"}, 400)
        try:
            day = date.fromisoformat(request.query_params["date"]) if "date" in request.query_params else None
            weight = float(request.query_params.get("weight", reports.weights.basically_satisfied))
        except ValueError as exc:
            return PlainTextResponse(f"bad date or weight: {exc}", 400)
        # A date near year 1 or 9999 overflows the period arithmetic; no appeal is dated outside.
        if day is not None and not EARLIEST_RECEIVED_AT.date() <= day < LATEST_RECEIVED_AT.date():
            return PlainTextResponse(
                f"date 须在 {EARLIEST_RECEIVED_AT.date()} 及以后、{LATEST_RECEIVED_AT.date()} 以前", 400
            )
        if not 0 <= weight <= 1:  # a share (nan and inf fail this too)
            return PlainTextResponse("weight 须在 0 与 1 之间", 400)
        now = datetime.now(UTC)
        weights = RateWeights(basically_satisfied=weight)
        found = await reports.report(PeriodKind(kind), day, now, weights)
        body, media = render(report_format, found, now)
        if report_format == "html":
            return HTMLResponse(body)
        name = f"report-{kind}-{found.period.first.isoformat()}.{report_format}"
        return Response(
            body, media_type=media, headers={"content-disposition": f'attachment; filename="{name}"'}
        )

    return [Route("/api/reports/{period}", guard(report) if guard is not None else report)]
