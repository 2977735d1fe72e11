"""PostgreSQL goes down for 30 s in the middle of a day's traffic: the stream goes on, the sink
holds its batch and alerts, and once PostgreSQL is back the store catches up with nothing
lost or doubled: `shaobao verify` finds no difference, the report equals the topic's counts.
Then a second outage, during which the worker is stopped: it exits committing nothing, and
the worker started after it writes what it held.

The test runs its own PostgreSQL (another port, another data dir) so it can stop it; the
shared one the other tests use is never touched."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from agents.sink import EXIT_STORE_DOWN
from domain.jurisdiction import Jurisdiction
from domain.reporting import PeriodKind, build_report, period_for
from domain.time_limits import WorkingCalendar
from infra.holidays import national_holidays
from infra.kafka.event_log import logs_by_ticket
from infra.kafka.topics import ensure_topics
from infra.local.postgres import LocalPostgres
from infra.local.services import ServiceEndpoints
from infra.reference import load_jurisdiction
from schemas.events import TicketEvent
from shaobao.bootstrap import all_topic_specs
from shaobao.launch import (
    Pipeline,
    free_port,
    isolated_env,
    run_coroutine,
    start_worker,
    stop_process,
    wait_for_worker,
)
from streams.names import TopicNames
from streams.settings import Settings
from tests.integration.conftest import Stack
from tests.integration.kafkatools import read_all
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

pytestmark = pytest.mark.integration
BEFORE, DURING, LATE = 100, 100, 20
OUTAGE_S = 30.0


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[LocalPostgres]:
    # Under /tmp, world-searchable: as root the server runs as the `postgres` user.
    state = Path(tempfile.mkdtemp(prefix="shaobao-outage-pg-", dir="/tmp"))
    state.chmod(0o755)
    postgres = LocalPostgres(state, port=free_port())
    postgres.start()
    try:
        yield postgres
    finally:
        postgres.stop()
        shutil.rmtree(state, ignore_errors=True)


@dataclass
class Running:
    """The pipeline and its worker process, which the test stops and starts again."""

    stack: Stack
    worker: subprocess.Popen[bytes]

    def restart(self) -> None:
        self.worker = start_worker(self.stack.env, self.stack.worker_log)
        wait_for_worker(self.worker, self.stack.settings, self.stack.worker_log)


@pytest.fixture(scope="module")
def running(
    endpoints: ServiceEndpoints, own_postgres: LocalPostgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    workdir = tmp_path_factory.mktemp("outage")
    env = isolated_env(endpoints.kafka, own_postgres.url, workdir, "out")
    settings = Settings.from_env(env)
    specs = all_topic_specs(settings, load_jurisdiction(settings.jurisdiction_file))
    run_coroutine(ensure_topics(settings.kafka, specs))
    log = workdir / "worker.log"
    stack = Pipeline(settings=settings, names=TopicNames(settings.topic_prefix), env=env, worker_log=log)
    found = Running(stack, start_worker(env, log))
    try:
        wait_for_worker(found.worker, settings, log)
        yield found
    finally:
        stop_process(found.worker)


def disposed(count: int) -> Any:
    kinds: tuple[str, ...] = ("ticket_dispatched", "ticket_answered_instantly", "ticket_transferred")
    kinds += ("ticket_queued_for_manual_dispatch",)
    return lambda events: sum(count_of(kind)(events) for kind in kinds) == count


async def stored_event_count(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM ticket_events"))
    finally:
        await conn.close()


async def alerts(stack: Stack, prefix: str) -> list[dict[str, Any]]:
    records = await read_all(stack.settings.kafka, stack.names.alerts)
    return [a for _, value in records if (a := json.loads(value))["alert_id"].startswith(prefix)]


def wait_for(probe: Any, timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(1.0)
    raise AssertionError(f"{what}: not within {timeout_s}s")


def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[bytes]:
    argv = [sys.executable, "-m", "shaobao.cli", *args]
    return subprocess.run(argv, env=stack.env, capture_output=True, timeout=180, check=False)  # noqa: S603


def test_postgres_down_for_30_s_mid_stream_loses_and_doubles_nothing(
    running: Running, own_postgres: LocalPostgres, jurisdiction: Jurisdiction
) -> None:
    stack = running.stack
    plan = Plan()
    url = stack.settings.database_url
    # Before: half the day's appeals, worked by the units; the store keeps up.
    run_coroutine(feed(stack, appeals(BEFORE, seed=11)))
    events = run_coroutine(events_until(stack, disposed(BEFORE)))
    first = dispatched(events)
    run_coroutine(work_units(stack, first, plan))
    events = run_coroutine(
        events_until(stack, lambda es: count_of("ticket_completed")(es) == len(plan.completed))
    )
    wait_for(lambda: run_coroutine(stored_event_count(url)) > 0, 60, "the store receiving events")

    # PostgreSQL stops; the stream side goes on: new appeals, the units' work, callbacks.
    own_postgres.stop()
    down_at = time.monotonic()
    run_coroutine(feed(stack, appeals(DURING, seed=12)))
    events = run_coroutine(events_until(stack, disposed(BEFORE + DURING)))
    second = dispatched(events, since={e.ticket_id for e in events} - {d.ticket_id for d in first})
    run_coroutine(call_back(stack, sorted(plan.completed), plan))
    run_coroutine(work_units(stack, second, plan))
    events = run_coroutine(
        events_until(
            stack,
            lambda es: (
                count_of("ticket_completed")(es) == len(plan.completed)
                and count_of("callback_recorded")(es) == len(plan.callbacks)
            ),
        )
    )
    down = wait_for(lambda: run_coroutine(alerts(stack, "store-down:")), 30, "the store-down alert")
    assert down[0]["kind"] == "store_errors" and down[0]["severity"] == "critical"
    time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))
    assert time.monotonic() - down_at >= OUTAGE_S

    # Back: the sink catches up from the batch it held.
    own_postgres.start()
    want = len({e.event_id for e in events})
    wait_for(lambda: run_coroutine(stored_event_count(url)) == want, 120, f"the store holding {want} events")
    back = wait_for(lambda: run_coroutine(alerts(stack, "store-back:")), 30, "the store-back alert")
    assert back[0]["details"]["held_from"] == down[0]["details"]["held_from"]

    verified = cli(stack, "verify")
    assert verified.returncode == 0, verified.stdout.decode()[-3000:]
    assert (
        verified.stdout.decode()
        .strip()
        .endswith("0 differences between " + f"{stack.names.events} and the store")
    )

    reported = cli(stack, "report", "daily", "--format", "json")
    assert reported.returncode == 0, reported.stderr.decode()[-2000:]
    data = json.loads(reported.stdout)
    expected = expected_counts(events)
    totals = data["totals"]
    assert data["received"] == expected["received"] == BEFORE + DURING
    assert totals["dispatched"] == expected["dispatched"] == len(first) + len(second)
    assert totals["completed"] == expected["completed"] == len(plan.completed)
    assert totals["returns"] == expected["returns"] == len(plan.returned)
    assert totals["signed_in_time"] == len(plan.signed)
    for outcome in ("satisfied", "basically_satisfied", "dissatisfied"):
        assert totals[outcome] == expected[outcome] == list(plan.callbacks.values()).count(outcome)
    assert same_report_from_topic(events, data, jurisdiction) == data

    # Down again, and the worker stopped while it holds a batch: it exits committing nothing,
    # and the next worker, started once PostgreSQL is back, writes the batch.
    own_postgres.stop()
    run_coroutine(feed(stack, appeals(LATE, seed=13)))
    wait_for(lambda: len(run_coroutine(alerts(stack, "store-down:"))) >= 2, 60, "a second store-down alert")
    stop_process(running.worker)
    assert running.worker.returncode == EXIT_STORE_DOWN
    own_postgres.start()
    running.restart()
    events = run_coroutine(events_until(stack, disposed(BEFORE + DURING + LATE)))
    want = len({e.event_id for e in events})
    wait_for(lambda: run_coroutine(stored_event_count(url)) == want, 120, f"the store holding {want} events")
    verified = cli(stack, "verify")
    assert verified.returncode == 0, verified.stdout.decode()[-3000:]


def same_report_from_topic(
    events: list[TicketEvent], data: dict[str, Any], jurisdiction: Jurisdiction
) -> dict[str, Any]:
    """The report computed by the same function from the topic's events, as of the CLI's instant."""
    first = date.fromisoformat(data["period"]["first"])
    period = period_for(PeriodKind(data["period"]["kind"]), first, jurisdiction.timezone)
    calendar = WorkingCalendar.for_jurisdiction(jurisdiction, national_holidays())
    as_of = datetime.fromisoformat(data["as_of"])
    return dict(
        json.loads(render_json(build_report(logs_by_ticket(events), period, as_of, jurisdiction, calendar)))
    )
