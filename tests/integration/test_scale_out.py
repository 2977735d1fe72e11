"""Scale out and back under load (issue 13, item 6): exact accounting while workers come and go.

A real pipeline (its own topics and database, one worker) takes a steady 20 appeals/s on
`appeals.intake`, each a valid appeal the router dispatches, while a second and a third worker
are started and stopped 20 times in all (start 2nd, start 3rd, stop 3rd, stop 2nd, ...), with
SIGTERM and twice SIGKILL. Each step waits for the group to be Stable with the members it
should have and for dispatching to have resumed (a rebalance is followed by the workers'
table recovery; a step taken before that ends stacks one rebalance onto the next, which a
deployment that scales every few seconds would see, not this one). Then, once the load has
stopped and the pipeline has drained:

- every appeal produced is exactly one ticket in PostgreSQL, with the id its intake record
  gives it, dispatched, and with its events (versions 1..n, received first, dispatched once);
- every dispatched ticket's lead unit has exactly one work order on `units.<unit>.orders`
  (one order id; a redelivery of the same record after a kill is counted, not failed), within
  DRAIN_TIMEOUT_S of PostgreSQL holding every ticket (the orders agent may lag the sink);
- while appeals were waiting, no more than 10 s passed between two dispatches (the record
  timestamps of `ticket_dispatched` on `tickets.events`).

The stall this guards against (records a rebalance made Faust drop, never read again on a
partition with no committed offset; see `streams/rebalance.py`) needs a partition that has
had no commit yet when a rebalance overtakes its first records. Once a partition has a
commit, Faust's seek after the rebalance puts it back. So the load opens the intake
partitions one at a time, each as the group is seen rebalancing: a new deployment's first
minutes, or a quiet partition, on purpose. Whether the dropped fetch happens still depends
on timing (a fetch parked across the rebalance), so the stall cannot be forced every time:
without `streams.rebalance` this test failed 2 runs of 3 (11 and 32 appeals lost, each the
first records of a partition opened during a rebalance). The churn also exercises the other
mends there (a rebalance waiting for ever on a record no agent would ack; a commit skipping
one unacked record), which showed up as a group stuck for 90 s and as one lost command.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from domain.intake.ids import ticket_id_for
from infra.local.services import ServiceEndpoints
from infra.reference import load_jurisdiction
from schemas.appeal import Appeal
from shaobao.launch import Pipeline, free_port, isolated_pipeline, start_worker, stop_process
from streams.kafka_access import KafkaAccess
from streams.partitioning import partition_for
from tests.badinputs import good_appeal

RATE = 20.0  # appeals per second
CYCLES = 5  # start 2nd, start 3rd, stop 3rd, stop 2nd: 4 steps each, 20 in all
KILLED = {(1, "3rd"), (3, "2nd")}  # (cycle, worker) stopped with SIGKILL instead of SIGTERM
DWELL_S = 0.0  # dispatching has resumed: the next step follows at once
SETTLE_TIMEOUT_S = 90.0
DRAIN_TIMEOUT_S = 120.0
MAX_IDLE_S = 10.0
INTAKE_PARTITIONS = 6


@dataclass(frozen=True)
class Produced:
    source_id: str
    ticket_id: str
    partition: int
    offset: int
    at: float  # epoch seconds, the record's timestamp


@dataclass
class Load:
    """Appeals at RATE/s onto `appeals.intake`, spread over the partitions opened so far; one
    more partition is opened each time the group is seen rebalancing."""

    pipeline: Pipeline
    run: str
    produced: list[Produced] = field(default_factory=list)
    opened: list[int] = field(default_factory=lambda: [0])
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    def open_next(self) -> None:
        if len(self.opened) < INTAKE_PARTITIONS:
            self.opened.append(len(self.opened))

    def stop(self) -> None:
        self._stop.set()

    async def run_until_stopped(self) -> None:
        settings = self.pipeline.settings
        timezone = load_jurisdiction(settings.jurisdiction_file).timezone
        producer = AIOKafkaProducer(**settings.kafka.producer_options())
        await producer.start()
        try:
            start, n, candidate = time.monotonic(), 0, 0
            while not self._stop.is_set():
                wanted = self.opened[n % len(self.opened)]
                while True:  # a source id whose key lands on the wanted partition
                    candidate += 1
                    source_id = f"{self.run}-{candidate}"
                    key = f"phone:{source_id}".encode()
                    if partition_for(key, INTAKE_PARTITIONS) == wanted:
                        break
                record = good_appeal(source_id, received_at=datetime.now(UTC).isoformat())
                sent = await producer.send_and_wait(
                    self.pipeline.names.intake,
                    key=key,
                    value=json.dumps(record, ensure_ascii=False).encode(),
                    partition=wanted,
                )
                ticket = ticket_id_for(Appeal.model_validate(record), sent.partition, sent.offset, timezone)
                self.produced.append(
                    Produced(source_id, ticket, sent.partition, sent.offset, sent.timestamp / 1000)
                )
                n += 1
                await asyncio.sleep(max(0.0, start + n / RATE - time.monotonic()))
        finally:
            await producer.stop()


class Group:
    """The pipeline's consumer group as the broker describes it."""

    def __init__(self, kafka: KafkaAccess, group_id: str) -> None:
        self._admin = AIOKafkaAdminClient(**kafka.client_options(), request_timeout_ms=5000)
        self._group_id = group_id

    async def __aenter__(self) -> Group:
        await self._admin.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._admin.close()

    async def state(self) -> tuple[str, int]:
        described = await self._admin.describe_consumer_groups([self._group_id])
        for response in described:
            for (
                group
            ) in response.groups:  # (error_code, group_id, state, protocol_type, protocol, members, …)
                if group[1] == self._group_id:
                    return str(group[2]), len(group[5])
        return "Unknown", 0

    async def settled(self, members: int, timeout_s: float = SETTLE_TIMEOUT_S) -> float:
        """Wait until the group is Stable with `members` members; returns the seconds it took."""
        start = time.monotonic()
        while (state := await self.state()) != ("Stable", members):
            if time.monotonic() - start > timeout_s:
                raise AssertionError(f"group not Stable with {members} members after {timeout_s}s: {state}")
            await asyncio.sleep(0.2)
        return time.monotonic() - start

    async def watch_rebalances(self, load: Load, stop: asyncio.Event) -> int:
        """Open the load's next partition each time the group leaves Stable; returns how often."""
        seen, was_stable = 0, True
        while not stop.is_set():
            try:
                state, _ = await self.state()
            except Exception:  # noqa: BLE001 - the broker answers the next poll
                state = "Unknown"
            if was_stable and state in ("PreparingRebalance", "CompletingRebalance"):
                seen += 1
                load.open_next()
            was_stable = state == "Stable"
            await asyncio.sleep(0.05)
        return seen


@pytest.fixture
def pipeline(endpoints: ServiceEndpoints, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    workdir = tmp_path_factory.mktemp("scale")
    with isolated_pipeline(endpoints.kafka, endpoints.database_url, workdir, "scale") as first:
        yield first


def worker_env(pipeline: Pipeline, name: str) -> dict[str, str]:
    return {
        **pipeline.env,
        "SHAOBAO_WORKER_WEB_PORT": str(free_port()),
        "SHAOBAO_WORKER_DATADIR": str(pipeline.worker_log.parent / name),
    }


async def dispatching_again(db: asyncpg.Connection, timeout_s: float = SETTLE_TIMEOUT_S) -> float:
    """Wait until an appeal received from now on is dispatched; returns the seconds it took."""
    start, since = time.monotonic(), datetime.now(UTC)
    query = "SELECT count(*) FROM tickets WHERE status = 'dispatched' AND received_at > $1"
    while not await db.fetchval(query, since):
        if time.monotonic() - start > timeout_s:
            raise AssertionError(f"no appeal received after the group settled dispatched within {timeout_s}s")
        await asyncio.sleep(0.2)
    return time.monotonic() - start


async def churn(pipeline: Pipeline, group: Group, log: list[str]) -> None:
    """20 steps: start 2nd, start 3rd, stop 3rd, stop 2nd, five times; SIGKILL where KILLED says."""
    workdir = pipeline.worker_log.parent
    db = await asyncpg.connect(pipeline.settings.database_url)
    running: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for cycle in range(CYCLES):
            for step, name in (("start", "2nd"), ("start", "3rd"), ("stop", "3rd"), ("stop", "2nd")):
                began = time.monotonic()
                if step == "start":
                    label = f"worker{name}-{cycle}"
                    running[name] = start_worker(worker_env(pipeline, label), workdir / f"{label}.log")
                    how = "started"
                else:
                    sig = signal.SIGKILL if (cycle, name) in KILLED else signal.SIGTERM
                    await asyncio.to_thread(stop_process, running.pop(name), sig)
                    how = f"stopped ({sig.name})"
                took = await group.settled(1 + len(running))
                resumed = await dispatching_again(db)
                log.append(
                    f"{time.time():.1f} cycle {cycle}: {name} {how}; group Stable with {1 + len(running)} "
                    f"after {time.monotonic() - began - resumed:.1f}s (waited {took:.1f}s), "
                    f"dispatching again {resumed:.1f}s later"
                )
                await asyncio.sleep(DWELL_S)
    finally:
        await db.close()
        for process in running.values():
            await asyncio.to_thread(stop_process, process, signal.SIGKILL)


async def read_topic(kafka: KafkaAccess, topic: str) -> list[tuple[int, bytes, float]]:
    """(partition, value, timestamp in epoch seconds) of every record on the topic now."""
    consumer = AIOKafkaConsumer(**kafka.client_options(), group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.subscribe([topic])  # without a group: every partition, nothing committed
        deadline = time.monotonic() + 60
        while not consumer.assignment():
            assert time.monotonic() < deadline, f"no partitions of {topic}"
            await asyncio.sleep(0.05)
        partitions = sorted(consumer.assignment())
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: list[tuple[int, bytes, float]] = []
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            assert time.monotonic() < deadline, f"could not read {topic} to its end"
            batch = await consumer.getmany(timeout_ms=500)
            for messages in batch.values():
                found.extend((m.partition, m.value or b"", m.timestamp / 1000) for m in messages)
        return found
    finally:
        await consumer.stop()


async def lead_orders(
    kafka: KafkaAccess, pipeline: Pipeline, units: list[str]
) -> tuple[dict[str, set[str]], int]:
    """Lead order ids by ticket on the units' topics now, and how many lead records in all."""
    orders: dict[str, set[str]] = defaultdict(set)
    deliveries = 0
    for unit in units:
        for _, value, _ in await read_topic(kafka, pipeline.names.unit_orders(unit)):
            order = json.loads(value)
            if order["kind"] == "order" and order["role"] == "lead":
                orders[order["ticket_id"]].add(order["order_id"])
                deliveries += 1
    return orders, deliveries


async def drained(db: asyncpg.Connection, expected: int) -> int:
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while True:
        done = await db.fetchval("SELECT count(*) FROM tickets WHERE status = 'dispatched'")
        if done >= expected or time.monotonic() > deadline:
            return int(done)
        await asyncio.sleep(0.5)


def longest_wait_without_dispatch(
    produced: list[Produced], dispatched_at: dict[str, float]
) -> tuple[float, str]:
    """The longest stretch with no dispatch while an appeal was waiting (produced, not yet
    dispatched), and when it ended."""
    times = sorted(dispatched_at.values())
    worst, when = 0.0, ""
    for before, after in zip(times, times[1:], strict=False):
        if after - before <= MAX_IDLE_S / 2:
            continue
        waiting_since = [
            p.at for p in produced if p.at < after and dispatched_at.get(p.ticket_id, float("inf")) >= after
        ]
        if waiting_since:
            idle = after - max(before, min(waiting_since))
            if idle > worst:
                worst, when = idle, f"{before:.1f} → {after:.1f}"
    return worst, when


async def test_every_appeal_is_one_dispatched_ticket_while_workers_come_and_go(pipeline: Pipeline) -> None:
    began = time.monotonic()
    kafka = pipeline.settings.kafka
    load = Load(pipeline, f"scale-{uuid.uuid4().hex[:6]}")
    steps: list[str] = []
    watching = asyncio.Event()
    async with Group(kafka, pipeline.names.app_id) as group:
        producing = asyncio.create_task(load.run_until_stopped())
        watcher = asyncio.create_task(group.watch_rebalances(load, watching))
        try:
            await asyncio.sleep(2.0)
            await churn(pipeline, group, steps)
            await asyncio.sleep(2.0)
        finally:
            load.stop()
            watching.set()
            rebalances = await watcher
            await producing
    churned = time.monotonic() - began
    produced = load.produced
    report = [
        f"{len(produced)} appeals produced over {churned:.0f}s on intake partitions {load.opened} "
        f"({rebalances} rebalances seen); worker logs in {pipeline.worker_log.parent}",
        *steps,
    ]

    db = await asyncpg.connect(pipeline.settings.database_url)
    try:
        dispatched_count = await drained(db, len(produced))
        tickets = await db.fetch(
            "SELECT ticket_id, status, version, lead_unit,"
            " state->'appeal'->>'source_id' AS source_id FROM tickets"
        )
        events = await db.fetch(
            "SELECT ticket_id, version, type FROM ticket_events ORDER BY ticket_id, version"
        )
    finally:
        await db.close()
    report.append(f"{dispatched_count} dispatched tickets in PostgreSQL after draining")

    # Every appeal is exactly one ticket, with the id its intake record gives it, dispatched.
    by_source = defaultdict(list)
    for row in tickets:
        by_source[row["source_id"]].append(row)
    expected = {p.source_id: p.ticket_id for p in produced}
    missing = sorted(
        (p.ticket_id for p in produced if p.source_id not in by_source), key=lambda t: (t[9:11], t)
    )
    doubled = {s: [r["ticket_id"] for r in rows] for s, rows in by_source.items() if len(rows) > 1}
    strangers = sorted(s for s in by_source if s not in expected)
    wrong_id = {
        s: rows[0]["ticket_id"]
        for s, rows in by_source.items()
        if s in expected and rows[0]["ticket_id"] != expected[s]
    }
    undispatched = Counter(r["status"] for r in tickets if r["status"] != "dispatched")
    missing_by_partition = Counter(t[9:11] for t in missing)
    assert not missing, (
        f"{len(missing)} appeals never became tickets (by intake partition {dict(missing_by_partition)}), "
        f"e.g. {missing[:5]}\n" + "\n".join(report)
    )
    assert not doubled and not strangers and not wrong_id, (doubled, strangers, wrong_id)
    assert not undispatched, f"tickets not dispatched: {dict(undispatched)}\n" + "\n".join(report)

    # Each ticket's events: versions 1..n, the first received, dispatched exactly once, n = its version.
    logs: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for row in events:
        logs[row["ticket_id"]].append((row["version"], row["type"]))
    broken = {}
    for row in tickets:
        log = logs.get(row["ticket_id"], [])
        versions = [v for v, _ in log]
        types = [t for _, t in log]
        if (
            versions != list(range(1, row["version"] + 1))
            or types[:1] != ["ticket_received"]
            or types.count("ticket_dispatched") != 1
        ):
            broken[row["ticket_id"]] = log
    assert not broken, f"{len(broken)} tickets whose events do not add up, e.g. {list(broken.items())[:3]}"
    # No appeal was sent twice: an intake record read again after a rebalance, its `intake_seen`
    # entry already saved, is the same ticket again, never a duplicate of its own ticket.
    replayed = sorted(t for t, log in logs.items() if any(kind == "duplicate_received" for _, kind in log))
    assert replayed == [], f"{len(replayed)} tickets recorded as their own duplicates: {replayed[:3]}"

    # Each dispatched ticket's lead unit: exactly one work order (one order id). The orders
    # agent reads `tickets.events` on its own, behind the sink or ahead of it: its orders are
    # waited for (a missing one after DRAIN_TIMEOUT_S is lost), a second order id never is.
    leads = {r["ticket_id"]: r["lead_unit"] for r in tickets}
    waited_from = time.monotonic()
    while True:
        orders, deliveries = await lead_orders(kafka, pipeline, sorted(set(leads.values())))
        doubled_orders = {t: sorted(ids) for t, ids in orders.items() if len(ids) > 1}
        assert not doubled_orders, f"tickets with two lead order ids: {list(doubled_orders.items())[:3]}"
        lacking = sorted(t for t in leads if t not in orders)
        if not lacking or time.monotonic() - waited_from > DRAIN_TIMEOUT_S:
            break
        await asyncio.sleep(1.0)
    assert not lacking, (
        f"{len(lacking)} dispatched tickets without a lead order after {DRAIN_TIMEOUT_S:.0f}s, "
        f"e.g. {lacking[:3]}\n" + "\n".join(report)
    )
    assert set(orders) == set(leads)
    report.append(
        f"{len(leads)} lead orders, {deliveries - len(leads)} redelivered; "
        f"all out {time.monotonic() - waited_from:.1f}s after PostgreSQL had every ticket"
    )

    # While appeals waited, no more than MAX_IDLE_S between two dispatches.
    dispatched_at: dict[str, float] = {}
    for _, value, at in await read_topic(kafka, pipeline.names.events):
        event = json.loads(value)
        if event["type"] == "ticket_dispatched":
            dispatched_at[event["ticket_id"]] = min(at, dispatched_at.get(event["ticket_id"], at))
    idle, when = longest_wait_without_dispatch(produced, dispatched_at)
    latency = max(dispatched_at[p.ticket_id] - p.at for p in produced)
    report.append(
        f"longest stretch without a dispatch while appeals waited: {idle:.1f}s ({when}); "
        f"slowest appeal to dispatch: {latency:.1f}s; test took {time.monotonic() - began:.0f}s"
    )
    print("\n".join(report))  # noqa: T201 - the run's account, shown with -s and kept in the log
    (pipeline.worker_log.parent / "scale-out.txt").write_text("\n".join(report) + "\n")
    assert idle <= MAX_IDLE_S, "\n".join(report)
