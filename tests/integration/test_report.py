"""The record and the reports on real data: a day of traffic through the real pipeline, then
`shaobao report` (JSON, HTML, XLSX), `GET /api/reports/…`, and `shaobao verify`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from playwright.sync_api import sync_playwright
from starlette.applications import Starlette

from domain.jurisdiction import Jurisdiction
from domain.reporting import PeriodKind, build_report, period_for
from domain.time_limits import WorkingCalendar
from infra.holidays import national_holidays
from infra.kafka.event_log import logs_by_ticket
from infra.local.services import ServiceEndpoints
from infra.postgres.reports import StoreReports
from infra.postgres.store import AsyncpgTicketStore
from schemas.events import TicketEvent
from shaobao.launch import isolated_pipeline, run_coroutine
from shaobao.web_wiring import StoreReportSource, web_app
from tests.integration.conftest import Stack
from tests.integration.kafkatools import eventually, produce
from tests.integration.reporttools import (
    Plan,
    appeals,
    call_back,
    count_of,
    dispatched,
    events_until,
    expected_counts,
    feed,
    work_units,
)
from web.reports.files import render_json
from web.reports.routes import report_routes

pytestmark = pytest.mark.integration
APPEALS = 80
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DISPOSED = (
    "ticket_dispatched",
    "ticket_answered_instantly",
    "ticket_transferred",
    "ticket_queued_for_manual_dispatch",
)


async def a_day(stack: Stack) -> tuple[Plan, list[TicketEvent]]:
    """Appeals, a malformed one, the units' work by the plan, callbacks; then the store caught up."""
    plan = Plan()
    await feed(stack, appeals(APPEALS, seed=7))
    await produce(stack.settings.kafka, stack.names.intake, [(b"web:bad-1", b"{not json")])
    events = await events_until(stack, lambda es: sum(count_of(kind)(es) for kind in DISPOSED) == APPEALS)
    await work_units(stack, dispatched(events), plan)
    events = await events_until(
        stack,
        lambda es: (
            count_of("ticket_completed")(es) == len(plan.completed)
            and count_of("order_returned")(es) == len(plan.returned)
        ),
    )
    await call_back(stack, sorted(plan.completed), plan)
    events = await events_until(stack, lambda es: count_of("callback_recorded")(es) == len(plan.callbacks))
    await store_caught_up(stack, events)
    return plan, events


async def store_caught_up(stack: Stack, events: list[TicketEvent]) -> None:
    want = len({e.event_id for e in events})
    conn = await asyncpg.connect(stack.settings.database_url)
    try:

        async def caught_up() -> bool:
            return bool(await conn.fetchval("SELECT count(*) FROM ticket_events") == want)

        await eventually(caught_up, timeout_s=60)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def day(
    endpoints: ServiceEndpoints, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Stack, Plan, list[TicketEvent]]]:
    workdir = tmp_path_factory.mktemp("report")
    with isolated_pipeline(endpoints.kafka, endpoints.database_url, workdir, "rep") as stack:
        plan, events = run_coroutine(a_day(stack))
        yield stack, plan, events


def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "shaobao.cli", *args],
        env=stack.env,
        capture_output=True,
        timeout=120,
        check=False,
    )


def topic_report(
    events: list[TicketEvent], data: dict[str, Any], jurisdiction: Jurisdiction
) -> dict[str, Any]:
    """The same report computed from the topic's events, as of the instant the CLI's was."""
    period = period_for(
        PeriodKind(data["period"]["kind"]), date.fromisoformat(data["period"]["first"]), jurisdiction.timezone
    )
    calendar = WorkingCalendar.for_jurisdiction(jurisdiction, national_holidays())
    as_of = datetime.fromisoformat(data["as_of"])
    return dict(
        json.loads(render_json(build_report(logs_by_ticket(events), period, as_of, jurisdiction, calendar)))
    )


def test_the_daily_report_counts_exactly_what_the_topic_holds_and_what_was_done(
    day: tuple[Stack, Plan, list[TicketEvent]], jurisdiction: Jurisdiction
) -> None:
    stack, plan, events = day
    done = cli(stack, "report", "daily", "--format", "json")
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    data = json.loads(done.stdout)
    expected = expected_counts(events)
    totals = data["totals"]
    assert (data["received"], expected["received"]) == (APPEALS, APPEALS)
    assert sum(data["dispositions"].values()) == APPEALS
    assert totals["dispatched"] == expected["dispatched"] == data["dispositions"]["派单"]
    assert totals["signed_in_time"] == len(plan.signed)
    assert totals["completed"] == totals["completed_on_time"] == expected["completed"] == len(plan.completed)
    assert totals["returns"] == expected["returns"] == len(plan.returned)
    outcomes = list(plan.callbacks.values())
    for outcome in ("satisfied", "basically_satisfied", "dissatisfied"):
        assert totals[outcome] == expected[outcome] == outcomes.count(outcome)
    assert totals["reached"] == len(plan.callbacks)
    assert totals["solved"] == len(plan.callbacks) - outcomes.count("dissatisfied")
    assert sum(row["rates"]["dispatched"] for row in data["units"]) == totals["dispatched"]
    assert data["outstanding_total"] == outcomes.count("dissatisfied")  # open and dissatisfied
    # And the very same report, computed from the topic instead of PostgreSQL.
    assert topic_report(events, data, jurisdiction) == data


def test_the_store_keeps_rejections_callbacks_and_the_jurisdiction(
    day: tuple[Stack, Plan, list[TicketEvent]], jurisdiction: Jurisdiction
) -> None:
    stack, plan, _ = day

    async def read() -> tuple[Any, ...]:
        conn = await asyncpg.connect(stack.settings.database_url)
        try:
            rejected = await eventually(lambda: conn.fetch("SELECT reason, key FROM appeal_rejections"))
            callbacks = await conn.fetchval("SELECT count(*) FROM ticket_callbacks WHERE final")
            towns = await conn.fetchval("SELECT count(*) FROM jurisdiction_towns")
            units = await conn.fetchval("SELECT count(*) FROM jurisdiction_units")
            dispatched_at = await conn.fetchval(
                "SELECT count(*) FROM tickets WHERE dispatched_at IS NOT NULL"
            )
            return [tuple(r) for r in rejected], callbacks, towns, units, dispatched_at
        finally:
            await conn.close()

    rejected, callbacks, towns, units, with_dispatch = run_coroutine(read())
    assert rejected == [("invalid_json", "web:bad-1")]
    assert callbacks == len(plan.callbacks)
    assert (towns, units) == (len(jurisdiction.towns), len(jurisdiction.unit_codes))
    assert with_dispatch == len(dispatched(day[2]))


def test_the_html_and_xlsx_reports_render_from_real_data_and_read_like_a_report(
    day: tuple[Stack, Plan, list[TicketEvent]], tmp_path: Path
) -> None:
    stack, _, _ = day
    html_file, xlsx_file = tmp_path / "report.html", tmp_path / "report.xlsx"
    assert cli(stack, "report", "daily", "--format", "html", "--out", str(html_file)).returncode == 0
    assert cli(stack, "report", "daily", "--format", "xlsx", "--out", str(xlsx_file)).returncode == 0
    html = html_file.read_text(encoding="utf-8")
    assert html.count("<svg") == 4 and "红榜" in html and "突出问题清单" in html and "<script" not in html
    book = load_workbook(xlsx_file)
    assert book.sheetnames[:4] == ["总体", "单位排名", "属地", "类别"]
    ranking = book["单位排名"]
    assert isinstance(ranking, Worksheet)
    # types-openpyxl leaves out the private list the reader fills; openpyxl has no public one.
    assert len(ranking._charts) == 1  # type: ignore[attr-defined]
    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is required"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1120, "height": 900})
            page.goto(html_file.as_uri())
            assert page.locator("h1").inner_text().endswith("12345热线日报")
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        finally:
            browser.close()


async def test_the_report_over_http_is_the_same_report(
    day: tuple[Stack, Plan, list[TicketEvent]], jurisdiction: Jurisdiction
) -> None:
    stack, plan, _ = day
    store = AsyncpgTicketStore(stack.settings.database_url)
    app = Starlette(routes=report_routes(StoreReportSource(StoreReports(jurisdiction), store)))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://report"
        ) as client:
            got = await client.get("/api/reports/daily", params={"format": "json", "weight": "0.5"})
            xlsx = await client.get("/api/reports/weekly", params={"format": "xlsx"})
            bad = await client.get("/api/reports/yearly")
    finally:
        await store.close()
    assert got.status_code == 200
    data = got.json()
    outcomes = list(plan.callbacks.values())
    assert (data["received"], data["totals"]["completed"]) == (APPEALS, len(plan.completed))
    assert data["basically_satisfied_weight"] == 0.5
    reached_with_opinion = len(outcomes)
    want = (outcomes.count("satisfied") + 0.5 * outcomes.count("basically_satisfied")) / reached_with_opinion
    assert data["totals"]["satisfaction_rate"] == pytest.approx(want)
    assert xlsx.status_code == 200 and xlsx.headers["content-type"].startswith("application/vnd.openxml")
    assert bad.status_code == 400


async def test_the_control_rooms_report_route_needs_a_login(
    day: tuple[Stack, Plan, list[TicketEvent]],
) -> None:
    app = web_app(day[0].settings)  # no lifespan: the guard answers before any I/O
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://room") as client:
        refused = await client.get("/api/reports/daily", params={"format": "json"})
    assert (refused.status_code, refused.json()) == (401, {"error": "请先登录"})


def test_verify_finds_no_difference_then_reports_a_tampered_row_and_a_lost_event(
    day: tuple[Stack, Plan, list[TicketEvent]],
) -> None:
    stack, plan, _ = day
    clean = cli(stack, "verify")
    assert clean.returncode == 0, clean.stdout.decode()[-2000:]
    assert clean.stdout.decode().strip().endswith(f"0 differences between {stack.names.events} and the store")
    victim = sorted(plan.signed - plan.completed)[0]

    async def tamper() -> asyncpg.Record:
        conn = await asyncpg.connect(stack.settings.database_url)
        try:
            await conn.execute("UPDATE tickets SET status = 'closed' WHERE ticket_id = $1", victim)
            return await conn.fetchrow(
                "DELETE FROM ticket_events WHERE ticket_id = $1 AND type = 'order_signed' RETURNING *", victim
            )
        finally:
            await conn.close()

    async def undo(row: asyncpg.Record) -> None:
        conn = await asyncpg.connect(stack.settings.database_url)
        try:
            await conn.execute("UPDATE tickets SET status = 'signed' WHERE ticket_id = $1", victim)
            columns = ", ".join(row.keys())
            values = ", ".join(f"${n}" for n in range(1, len(row) + 1))
            await conn.execute(f"INSERT INTO ticket_events ({columns}) VALUES ({values})", *row.values())
        finally:
            await conn.close()

    deleted = run_coroutine(tamper())
    try:
        found = cli(stack, "verify")
    finally:
        run_coroutine(undo(deleted))
    lines = found.stdout.decode().splitlines()
    assert found.returncode == 1
    assert [line.split()[:2] for line in lines[:-1]] == [["missing_event", victim], ["row_differs", victim]]
    assert lines[-2].endswith("status")
    assert lines[-1] == f"2 differences between {stack.names.events} and the store"
    assert cli(stack, "verify").returncode == 0
