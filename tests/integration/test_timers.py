"""Timers survive a killed worker: limits that fall due while no worker runs fire once it is
back, each exactly once, and a second kill after they fired fires nothing again.

A jurisdiction of its own with limits of seconds (calendar minutes), so the whole outage
fits in a test: sign 0.25min, complete 0.3min, warn at 75 %, escalate 0.05min after overdue
(the first mark falls due 11 s after dispatch, the last 21 s after).
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from infra.kafka.topics import ensure_topics
from infra.local.services import ServiceEndpoints
from infra.reference import load_jurisdiction
from shaobao.bootstrap import all_topic_specs
from shaobao.launch import isolated_env, run_coroutine, start_worker, stop_process, wait_for_worker
from streams.names import TopicNames
from streams.settings import DEFAULT_JURISDICTION, Settings
from tests.integration.kafkatools import appeal, encoded, eventually, produce, read_all

SHORT_LIMITS = """time_limits:
  normal:    {sign: 0.25min, complete: 0.3min}
  urgent:    {sign: 0.25min, complete: 0.3min}
  emergency: {sign: 0.25min, on_scene: {urban: 0.25min, rural: 0.25min}, complete: 0.3min}
  callback:  2wd
  rework:    3wd
  extension_max: 5wd
  whistle_report: {urgent: {urban: 0.25min, rural: 0.25min}, normal: 1wd}
  warn_at: 0.75
  escalate_after_overdue: 0.05min
"""
TICKETS = 3
MARK_EVENTS = ("limit_at_risk", "limit_overdue", "ticket_supervised")
MARK_ALERTS = ("at_risk", "overdue", "supervise")
# Each ticket's two clocks (sign, complete), each of their three marks, exactly once.
EXPECTED = Counter(f"{mark}:{clock}" for mark in MARK_EVENTS for clock in ("sign", "complete"))


def short_limit_jurisdiction(directory: Path) -> Path:
    """The sample county with its time limits replaced by seconds-long ones, lexicon beside it."""
    text = DEFAULT_JURISDICTION.read_text(encoding="utf-8")
    shortened = re.sub(r"^time_limits:\n(?:  .*\n)+", SHORT_LIMITS, text, count=1, flags=re.MULTILINE)
    assert shortened != text
    target = directory / "short-county.yaml"
    target.write_text(shortened, encoding="utf-8")
    lexicon = DEFAULT_JURISDICTION.with_name(DEFAULT_JURISDICTION.stem + ".lexicon.yaml")
    target.with_name("short-county.lexicon.yaml").write_text(
        lexicon.read_text(encoding="utf-8"), encoding="utf-8"
    )
    return target


async def mark_counts(database_url: str, tickets: list[str]) -> dict[str, Counter[str]]:
    """Per ticket, how many mark events of each `<type>:<clock>` PostgreSQL recorded."""
    db = await asyncpg.connect(database_url)
    try:
        rows = await db.fetch(
            "SELECT ticket_id, type, payload FROM ticket_events"
            " WHERE ticket_id = ANY($1::text[]) AND type = ANY($2::text[])",
            tickets,
            list(MARK_EVENTS),
        )
    finally:
        await db.close()
    counts: dict[str, Counter[str]] = {t: Counter() for t in tickets}
    for row in rows:
        counts[row["ticket_id"]][f"{row['type']}:{json.loads(row['payload'])['clock']}"] += 1
    return counts


async def dispatched(database_url: str, source_ids: list[str]) -> list[asyncpg.Record] | None:
    db = await asyncpg.connect(database_url)
    try:
        rows = await db.fetch(
            "SELECT ticket_id, state FROM tickets WHERE state->'appeal'->>'source_id' = ANY($1::text[])"
            " AND status = 'dispatched'",
            source_ids,
        )
    finally:
        await db.close()
    return rows if len(rows) == len(source_ids) else None


async def all_fired(database_url: str, tickets: list[str]) -> dict[str, Counter[str]] | None:
    counts = await mark_counts(database_url, tickets)
    return counts if all(sum(c.values()) >= len(EXPECTED) for c in counts.values()) else None


def rebuilds(log: Path) -> int:
    """How many times a worker writing to `log` rebuilt its due-index."""
    return log.read_text(encoding="utf-8", errors="replace").count("due-index rebuilt")


def wait_for_rebuild(log: Path, after: int, worker: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 180
    while rebuilds(log) <= after:
        assert worker.poll() is None, f"worker exited; see {log}"
        assert time.monotonic() < deadline, f"no due-index rebuild in 180 s; see {log}"
        time.sleep(0.5)


def test_limits_due_while_the_worker_is_killed_fire_exactly_once_after_restart(
    endpoints: ServiceEndpoints, tmp_path: Path
) -> None:
    env = isolated_env(endpoints.kafka, endpoints.database_url, tmp_path, "tm")
    env["SHAOBAO_JURISDICTION"] = str(short_limit_jurisdiction(tmp_path))
    settings = Settings.from_env(env)
    names, url = TopicNames(settings.topic_prefix), settings.database_url
    specs = all_topic_specs(settings, load_jurisdiction(settings.jurisdiction_file))
    run_coroutine(ensure_topics(settings.kafka, specs))
    log = tmp_path / "worker.log"
    worker = start_worker(env, log)
    try:
        wait_for_worker(worker, settings, log)
        records = [appeal() for _ in range(TICKETS)]
        run_coroutine(produce(settings.kafka, names.intake, [encoded(r) for r in records]))
        source_ids = [r["source_id"] for r in records]
        rows = run_coroutine(eventually(lambda: dispatched(url, source_ids), timeout_s=60))
        tickets = sorted(row["ticket_id"] for row in rows)
        clocks = [c for row in rows for c in json.loads(row["state"])["clocks"]]
        assert sorted(c["kind"] for c in clocks) == sorted(["complete", "sign"] * TICKETS)
        first_warn = min(datetime.fromisoformat(c["warn_at"]) for c in clocks)
        last_mark = max(datetime.fromisoformat(c["escalate_at"]) for c in clocks)

        stop_process(worker, signal.SIGKILL)
        # Killed before any limit warned, so every mark falls due during the outage.
        assert datetime.now(UTC) < first_warn
        assert run_coroutine(mark_counts(url, tickets)) == {t: Counter() for t in tickets}
        time.sleep(max(0.0, (last_mark - datetime.now(UTC)).total_seconds()) + 1)

        worker = start_worker(env, log)
        run_coroutine(eventually(lambda: all_fired(url, tickets), timeout_s=180))
        # Killed again once they fired: the rebuilt index finds them recorded and sends nothing.
        stop_process(worker, signal.SIGKILL)
        before = rebuilds(log)
        worker = start_worker(env, log)
        wait_for_rebuild(log, before, worker)
        time.sleep(3)  # many timer ticks: a mark handed out again would reach the log by now

        assert run_coroutine(mark_counts(url, tickets)) == {t: EXPECTED for t in tickets}
        alerts = [json.loads(v) for _, v in run_coroutine(read_all(settings.kafka, names.alerts))]
        kinds = Counter((a["ticket_id"], a["kind"]) for a in alerts if a["kind"] in MARK_ALERTS)
        assert kinds == Counter({(t, kind): 2 for t in tickets for kind in MARK_ALERTS})
    finally:
        stop_process(worker)
