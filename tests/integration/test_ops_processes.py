"""/metrics on every process as `shaobao` starts it: the session's worker (`shaobao worker`),
the control room (`shaobao web`) and the simulator (`shaobao simulate`), each scraped over
HTTP and checked by promtool; overdue tickets counted from PostgreSQL; `shaobao top --once`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from domain.ticket import OPEN_STATUSES
from infra.local.services import ServiceEndpoints
from infra.postgres.migrate import migrate_url
from infra.postgres.ops_queries import AsyncpgOpsQueries
from shaobao.launch import create_database, free_port, spawn_cli, stop_process
from streams.names import TopicNames
from tests.integration.conftest import Stack
from tests.integration.kafkatools import appeal, encoded, eventually, produce, ticket_for
from tests.integration.lifecycletools import control, open_ticket, row_at
from tests.integration.opstools import (
    by_label,
    delete_topics_of,
    promtool_check_metrics,
    scrape_url,
    scrape_url_until,
    value,
)

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
OPEN = sorted(status.value for status in OPEN_STATUSES)


@contextmanager
def running(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    process = spawn_cli(args, env, log)
    try:
        yield process
    finally:
        stop_process(process)


async def test_the_worker_started_by_the_cli_is_ready_and_meters_its_agents(stack: Stack) -> None:
    url = f"http://127.0.0.1:{stack.settings.worker_web_port}"
    record = appeal()
    await produce(stack.settings.kafka, stack.names.intake, [encoded(record)])
    intake_in = {"agent": "take_in_appeals", "topic": stack.names.intake, "direction": "in"}
    text = await scrape_url_until(
        f"{url}/metrics", lambda t: (value(t, "shaobao_agent_events_total", **intake_in) or 0) >= 1
    )
    promtool_check_metrics(text)
    async with httpx.AsyncClient(base_url=url, timeout=5) as http:
        ready = await http.get("/ready")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    # Once the ticket is in PostgreSQL this worker (the only one on the database) wrote it.
    await eventually(lambda: ticket_for_async(stack, record["source_id"]))
    text = await scrape_url_until(
        f"{url}/metrics", lambda t: bool(value(t, "shaobao_sink_events_written_total"))
    )
    assert (value(text, "shaobao_sink_batch_size_count") or 0) >= 1


async def ticket_for_async(stack: Stack, source_id: str) -> asyncpg.Record | None:
    conn = await asyncpg.connect(stack.settings.database_url)
    try:
        return await ticket_for(conn, source_id)
    finally:
        await conn.close()


async def test_the_control_room_serves_open_tickets_by_status_from_postgresql(
    stack: Stack, db: asyncpg.Connection, tmp_path: Path
) -> None:
    port = free_port()
    env = {**stack.env, "SHAOBAO_WEB_PORT": str(port)}

    async def open_counts() -> dict[str, float]:
        rows = await db.fetch(
            "SELECT status, count(*) AS n FROM tickets WHERE status = ANY($1::text[]) GROUP BY status", OPEN
        )
        return dict.fromkeys(OPEN, 0.0) | {row["status"]: float(row["n"]) for row in rows}

    async def agreeing() -> tuple[str, dict[str, float]] | None:
        # The pipeline may still be projecting an earlier test's events: until both agree.
        text = await scrape_url(f"http://127.0.0.1:{port}/metrics")
        expected = await open_counts()
        found = by_label(text, "shaobao_tickets_open", "status") if text is not None else None
        return (text, expected) if text is not None and found == expected else None

    record = appeal()
    await produce(stack.settings.kafka, stack.names.intake, [encoded(record)])
    await eventually(lambda: ticket_for(db, record["source_id"]))
    with running(["web"], env, tmp_path / "web.log"):
        text, expected = await eventually(agreeing, timeout_s=60)
    promtool_check_metrics(text)
    assert sum(expected.values()) >= 1
    lines = [line for line in (tmp_path / "web.log").read_text(encoding="utf-8").splitlines() if line]
    assert all(json.loads(line)["level"] for line in lines)  # JSON lines, if any


async def test_overdue_tickets_count_once_per_unit_with_an_overdue_running_clock(
    endpoints: ServiceEndpoints,
) -> None:
    url = await create_database(endpoints.database_url, f"shaobao_overdue_{uuid.uuid4().hex[:8]}")
    await migrate_url(url)
    now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    rows: list[tuple[str, str, list[tuple[str | None, list[str]]]]] = [
        # (ticket, status, clocks as (unit, fired marks))
        ("T1", "dispatched", [("cgj", ["at_risk", "overdue"]), ("cgj", ["at_risk", "overdue", "supervise"])]),
        ("T2", "signed", [("cgj", ["at_risk", "overdue"]), ("slj", ["at_risk", "overdue"])]),
        ("T3", "signed", [("slj", ["at_risk"])]),
        ("T4", "completed", [(None, ["at_risk", "overdue"])]),
        ("T5", "closed", [("cgj", ["at_risk", "overdue"])]),  # closed: not open any more
        ("T6", "received", []),
    ]
    conn = await asyncpg.connect(url)
    try:
        for ticket_id, status, clocks in rows:
            state = {"clocks": [{"unit": unit, "fired": fired} for unit, fired in clocks]}
            await conn.execute(
                "INSERT INTO tickets (ticket_id, version, status, channel, appeal_type, category, urgency,"
                " received_at, updated_at, state) VALUES ($1, 1, $2, 'web', 'complaint', 'c', 'normal',"
                " $3, $3, $4::jsonb)",
                ticket_id,
                status,
                now - timedelta(days=3),
                json.dumps(state),
            )
    finally:
        await conn.close()
    queries = AsyncpgOpsQueries(url)
    try:
        assert await queries.overdue_tickets_by_unit() == {"cgj": 2, "slj": 1, "hotline": 1}
    finally:
        await queries.close()


async def test_the_simulator_serves_the_appeals_it_sent(endpoints: ServiceEndpoints, tmp_path: Path) -> None:
    prefix = f"sim{uuid.uuid4().hex[:8]}."
    names = TopicNames(prefix)
    admin = AIOKafkaAdminClient(**endpoints.kafka.client_options())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(names.intake, 1, 1)])
    finally:
        await admin.close()
    port = free_port()
    env = {
        **os.environ,
        **endpoints.kafka.as_env(),
        "SHAOBAO_TOPIC_PREFIX": prefix,
        "SHAOBAO_METRICS_PORT": str(port),
        "PYTHONUNBUFFERED": "1",
    }
    sent = {"simulator": "appeals", "topic": names.intake}
    try:
        with running(["simulate", "--rate", "20", "--burst-every", "0"], env, tmp_path / "simulator.log"):
            text = await scrape_url_until(
                f"http://127.0.0.1:{port}/metrics",
                lambda t: (value(t, "shaobao_simulator_records_sent_total", **sent) or 0) >= 3,
            )
    finally:
        await delete_topics_of(endpoints.kafka, prefix)
    promtool_check_metrics(text)
    lines = (tmp_path / "simulator.log").read_text(encoding="utf-8").splitlines()
    logged = [json.loads(line) for line in lines if line.startswith("{")]
    assert any(entry["message"] == f"serving /metrics on http://127.0.0.1:{port}/metrics" for entry in logged)


def test_top_once_from_the_command_line_draws_one_frame(stack: Stack) -> None:
    result = subprocess.run(  # noqa: S603 - our own entry point
        [sys.executable, "-m", "shaobao.cli", "top", "--once", "--interval", "0.2"],
        env=stack.env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("哨报 shaobao top") and f"group {stack.names.app_id}" in lines[2]
    assert "\x1b" not in result.stdout  # not a terminal: no escape sequences
    for topic in (stack.names.intake, stack.names.commands, stack.names.events):
        assert any(line.startswith(f"  {topic} ") for line in lines), topic


async def test_the_cli_worker_logs_a_rejected_command_as_json_with_its_ticket_id(
    stack: Stack, db: asyncpg.Connection
) -> None:
    ticket = await open_ticket(stack, db)
    await control(stack, ticket, "judge_unreasonable", reason="要求超出政策")  # not while dispatched
    rejected = await row_at(db, ticket, 3)
    assert rejected["status"] == "dispatched"

    async def logged() -> list[dict[str, object]] | None:
        lines = stack.worker_log.read_text(encoding="utf-8").splitlines()
        entries = [json.loads(line) for line in lines if line.startswith("{")]
        return [entry for entry in entries if entry.get("ticket_id") == ticket] or None

    [entry] = await eventually(logged)
    assert (entry["level"], entry["logger"], entry["agent"]) == (
        "WARNING",
        "agents.ops_sensor",
        "handle_ticket_commands",
    )
    assert str(entry["message"]).startswith("command judge_unreasonable rejected (")
