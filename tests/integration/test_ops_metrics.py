"""Ops against the real broker: a worker serving /metrics, /health and /ready from inside its
own loop, its lag and store-error alerts on the alerts topic, lag read from real offsets, and
`shaobao top` on the session's pipeline."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from domain.ops import next_offset
from infra.kafka.lag import KafkaLagProbe
from infra.kafka.topics import ensure_topics
from infra.local.services import ServiceEndpoints
from infra.reference import load_jurisdiction
from schemas.alerts import Alert
from shaobao import top
from shaobao.bootstrap import all_topic_specs
from shaobao.launch import free_port, isolated_env, run_coroutine, stop_process
from streams.names import TopicNames
from streams.settings import Settings
from tests.integration.composetools import PASSWORDS, compose_config
from tests.integration.conftest import Stack
from tests.integration.kafkatools import appeal, encoded, eventually, produce, read_all, ticket_for
from tests.integration.opstools import delete_topics_of, promtool_check_metrics, samples, value

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class OpsWorker:
    settings: Settings
    names: TopicNames
    url: str
    log: Path


@pytest.fixture(scope="module")
def ops_worker(endpoints: ServiceEndpoints, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpsWorker]:
    """A worker wired with ops whose PostgreSQL is down on purpose: its sink cannot write, so
    tickets.events lags and the store fails, and both must reach the alerts topic."""
    workdir = tmp_path_factory.mktemp("ops-worker")
    env = isolated_env(endpoints.kafka, endpoints.database_url, workdir, "ops")
    env["DATABASE_URL"] = f"postgresql://shaobao@127.0.0.1:{free_port()}/nowhere"
    settings = Settings.from_env(env)
    specs = all_topic_specs(settings, load_jurisdiction(settings.jurisdiction_file))
    run_coroutine(ensure_topics(settings.kafka, specs))
    log = workdir / "worker.log"
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 - our own test worker
            [sys.executable, "-m", "tests.integration.ops_worker"],
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, which stop_process signals
        )
    url = f"http://127.0.0.1:{settings.worker_web_port}"
    try:
        wait_until_ready(process, url, log)
        yield OpsWorker(settings, TopicNames(settings.topic_prefix), url, log)
    finally:
        stop_process(process)
        run_coroutine(delete_topics_of(settings.kafka, settings.topic_prefix))


def wait_until_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"ops worker exited with {process.returncode}; see {log}")
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass  # uvicorn starts after table recovery: nothing listens yet
        time.sleep(0.5)
    raise TimeoutError(f"ops worker not ready in {READY_TIMEOUT_S}s; see {log}")


async def scrape(worker: OpsWorker) -> str:
    async with httpx.AsyncClient(base_url=worker.url, timeout=5) as http:
        response = await http.get("/metrics")
    assert response.status_code == 200
    return response.text


async def scrape_until(worker: OpsWorker, condition: Callable[[str], bool], timeout_s: float = 30.0) -> str:
    async def probe() -> str | None:
        text = await scrape(worker)
        return text if condition(text) else None

    return await eventually(probe, timeout_s)


async def test_health_and_ready_come_from_the_worker_once_partitions_are_assigned(
    ops_worker: OpsWorker,
) -> None:
    async with httpx.AsyncClient(base_url=ops_worker.url, timeout=5) as http:
        health, ready = await http.get("/health"), await http.get("/ready")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    body = ready.json()
    assert ready.status_code == 200
    assert (body["ready"], body["tables_recovered"], body["rebalancing"]) == (True, True, False)
    # appeals.intake, tickets.commands and tickets.events, 6 partitions each, changelogs left out.
    assert body["assigned_partitions"] >= 18


async def test_agents_are_counted_and_the_scrape_passes_promtool(ops_worker: OpsWorker) -> None:
    names, kafka = ops_worker.names, ops_worker.settings.kafka
    records = [encoded(appeal()) for _ in range(3)] + [(b"web:broken-1", b"{not json")]
    await produce(kafka, names.intake, records)

    intake_in = {"agent": "take_in_appeals", "topic": names.intake, "direction": "in"}
    intake_out = {"agent": "take_in_appeals", "direction": "out"}

    def taken_in(t: str) -> bool:
        # Counted in as the stream reads them, out as the agent's batch sends: wait for both.
        sent = [
            value(t, "shaobao_agent_events_total", topic=topic, **intake_out)
            for topic in (names.rejected, names.commands)
        ]
        return value(t, "shaobao_agent_events_total", **intake_in) == 4 and sent == [1, 3]

    text = await scrape_until(ops_worker, taken_in)
    commands = {"agent": "handle_ticket_commands", "topic": names.commands}
    assert value(text, "shaobao_intake_rejections_total", reason="invalid_json") == 1
    assert (
        value(
            text, "shaobao_agent_events_total", agent="take_in_appeals", topic=names.rejected, direction="out"
        )
        == 1
    )
    assert (
        value(
            text, "shaobao_agent_events_total", agent="take_in_appeals", topic=names.commands, direction="out"
        )
        == 3
    )
    # Timed once a batch is done with (acked): by then its events are sent.
    text = await scrape_until(
        ops_worker, lambda t: value(t, "shaobao_agent_processing_seconds_count", **commands) == 3
    )
    assert value(text, "shaobao_agent_events_total", **commands, direction="in") == 3
    events_out = value(
        text,
        "shaobao_agent_events_total",
        agent="handle_ticket_commands",
        topic=names.events,
        direction="out",
    )
    assert events_out is not None and events_out >= 6  # each appeal: received, then dispatched or queued
    assert value(text, "shaobao_agent_processing_seconds_count", **commands) == 3

    promtool_check_metrics(text)


async def test_lag_and_store_errors_reach_the_gauges_and_the_alerts_topic(ops_worker: OpsWorker) -> None:
    names, kafka = ops_worker.names, ops_worker.settings.kafka
    group = names.app_id
    await produce(kafka, names.intake, [encoded(appeal())])

    def lag(text: str, topic: str) -> list[float]:
        return [
            v
            for labels, v in samples(text, "shaobao_consumer_lag_messages").items()
            if ("topic", topic) in labels
        ]

    def upstream_caught_up(text: str) -> bool:
        """A poll that read intake and commands after the group committed all of them."""
        return all(lag(text, topic) == [0.0] * 6 for topic in (names.intake, names.commands))

    # The sink cannot write, so no offset of tickets.events is ever committed: the whole topic
    # lags. Once the group has committed the appeal on intake and commands (asked of Kafka, not
    # of the gauges), every event it causes is written and `written` is final.
    probe = KafkaLagProbe(kafka)
    try:

        async def upstream_committed() -> bool:
            offsets = await probe.offsets(group, [names.intake, names.commands])
            return len(offsets) == 12 and all(next_offset(o) == o.log_end for o in offsets)

        await eventually(upstream_committed)
        written = sum((await probe.records_written([names.events])).values())
    finally:
        await probe.close()
    assert written >= 2  # the appeal's received event and its dispatch (or manual queue)
    text = await scrape_until(
        ops_worker, lambda t: upstream_caught_up(t) and sum(lag(t, names.events)) == written
    )
    assert len(lag(text, names.events)) == 6
    ages = [
        v
        for labels, v in samples(text, "shaobao_consumer_lag_seconds").items()
        if ("topic", names.events) in labels
    ]
    assert ages and max(ages) > 0
    assert (value(text, "shaobao_lag_polls_total", outcome="ok") or 0) > 0
    refused = value(text, "shaobao_store_errors_total", operation="record", error="ConnectionRefusedError")
    assert refused is not None and refused >= 1

    def from_the_monitor(alert: Alert) -> bool:
        """The ops monitor's alerts (the sink raises its own `store-down:` ones too)."""
        return alert.alert_id.startswith(("lag:", "store_errors:"))

    async def alerts() -> list[Alert] | None:
        found = [Alert.model_validate_json(v) for _, v in await read_all(kafka, names.alerts)]
        ours = [a for a in found if from_the_monitor(a)]
        return ours if {"lag", "store_errors"} <= {a.kind for a in ours} else None

    found = await eventually(alerts, timeout_s=30)
    lag_alerts = [a for a in found if a.kind == "lag" and a.details["topic"] == names.events]
    assert lag_alerts and all(a.details["group"] == group and a.severity == "warning" for a in lag_alerts)
    # raised once per window, not once per poll
    assert len({a.alert_id for a in lag_alerts}) == len(lag_alerts)
    store = [a for a in found if a.kind == "store_errors"]
    assert store and all(int(a.details["errors"]) >= 1 for a in store)
    text = await scrape(ops_worker)
    assert (value(text, "shaobao_alerts_total", kind="lag", severity="warning") or 0) >= len(lag_alerts)
    assert (value(text, "shaobao_alerts_total", kind="store_errors", severity="warning") or 0) >= 1


def test_the_worker_logs_one_json_object_per_line(ops_worker: OpsWorker) -> None:
    lines = [line for line in ops_worker.log.read_text(encoding="utf-8").splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]
    assert entries and all({"time", "level", "logger", "message"} <= set(entry) for entry in entries)
    raised = [e for e in entries if e["logger"] == "agents.ops_monitor" and "alert_id" in e]
    assert raised and raised[0]["agent"] == "poll_consumer_lag"


async def test_lag_is_read_from_committed_offsets_and_the_oldest_unconsumed_record(
    endpoints: ServiceEndpoints,
) -> None:
    kafka = endpoints.kafka
    topic, group = f"opslag.{uuid.uuid4().hex[:8]}", f"opslag-group-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(**kafka.client_options())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 2, 1)])
    finally:
        await admin.close()
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    producer = AIOKafkaProducer(**kafka.producer_options())
    await producer.start()
    try:
        for i in range(10):  # partition i % 2, written (100 - i) seconds ago
            await producer.send_and_wait(topic, b"x", partition=i % 2, timestamp_ms=now_ms - (100 - i) * 1000)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(**kafka.client_options(), group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.commit({TopicPartition(topic, 0): 3})  # partition 1: never committed
    finally:
        await consumer.stop()

    probe = KafkaLagProbe(kafka)
    try:
        now = datetime.fromtimestamp(now_ms / 1000, tz=UTC)
        lags = await probe.lag(group, now, [topic])
        again = await probe.lag(group, now, [topic])  # partitions kept watched (paused) between polls
    finally:
        await probe.close()
        await delete_topics_of(kafka, topic)
    assert [(lag.partition, lag.messages, lag.seconds) for lag in lags] == [
        (0, 2, 94.0),  # offsets 3 and 4 of partition 0: records 6 and 8, the oldest 94 s old
        (1, 5, 99.0),  # nothing committed: all five, the oldest (record 1) 99 s old
    ]
    assert again == lags


async def test_top_once_shows_the_pipeline_lag_and_the_open_tickets(
    stack: Stack, db: asyncpg.Connection
) -> None:
    record = appeal()
    await produce(stack.settings.kafka, stack.names.intake, [encoded(record)])

    async def settled() -> asyncpg.Record | None:
        row = await ticket_for(db, record["source_id"])
        return row if row is not None and row["status"] == "dispatched" else None

    await eventually(settled)  # its last event is projected: the counts stay put from here
    open_statuses = await db.fetch(
        "SELECT status, count(*) AS n FROM tickets WHERE status = ANY($1::text[]) GROUP BY status",
        sorted(top_open_statuses()),
    )
    out = io.StringIO()
    code = await asyncio.to_thread(top.run, ["--once", "--interval", "0.5"], out, stack.env)
    frame = out.getvalue()
    assert code == 0, frame
    lines = frame.splitlines()
    assert f"group {stack.names.app_id}" in lines[2]
    for topic in (stack.names.intake, stack.names.commands, stack.names.events):
        [row] = [line.split() for line in lines if line.startswith(f"  {topic} ")]
        assert len(row) == 5 and int(row[1]) >= 0
    counts = dict.fromkeys(top_open_statuses(), 0) | {row["status"]: row["n"] for row in open_statuses}
    expected = "  ".join(f"{status} {n}" for status, n in sorted(counts.items()))
    assert f"  {expected}  total {sum(counts.values())}" in lines
    assert "Kafka unavailable" not in frame and "PostgreSQL unavailable" not in frame


def top_open_statuses() -> set[str]:
    from domain.ticket import OPEN_STATUSES

    return {status.value for status in OPEN_STATUSES}


def test_compose_runs_prometheus_and_grafana_on_the_monitoring_config() -> None:
    result = compose_config(PASSWORDS)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert services["prometheus"]["image"].startswith("prom/prometheus:")
    assert services["grafana"]["image"].startswith("grafana/grafana:")
    mounts = {
        target: source
        for name in ("prometheus", "grafana")
        for target, source in bind_mounts(services[name]["volumes"]).items()
    }
    assert mounts["/etc/prometheus/alerts.yml"] == REPO / "infra/monitoring/alerts.yml"
    assert all(source.exists() for source in mounts.values()), mounts
    assert services["worker"]["environment"]["SHAOBAO_WORKER_WEB_BIND"] == "0.0.0.0"


def bind_mounts(volumes: list[str | dict[str, str]]) -> dict[str, Path]:
    """Target → host path of a service's bind mounts, as `config` prints them: Compose v2 in
    the long form (dicts), Debian's Compose 1.29 in the short one (`source:target:mode`)."""
    mounts = {}
    for volume in volumes:
        if isinstance(volume, dict):
            if volume["type"] == "bind":
                mounts[volume["target"]] = Path(volume["source"])
            continue
        source, target = volume.split(":")[:2]
        if source.startswith(("/", ".")):  # else a named volume
            mounts[target] = Path(source)
    return mounts
