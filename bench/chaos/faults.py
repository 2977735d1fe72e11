"""The faults of a chaos run, each performed on the live stack and timed: `perform` returns a
record with the exact UTC moment the fault struck (the signal sent, the server stopped, the
first record produced), when it was over (the stack whole again: the group Stable with the
workers it should have, the server serving), and what it saw on the way."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from bench.chaos.schedule import (
    BROKER_DOWN_S,
    BURST_FACTOR,
    BURST_S,
    PAUSE_S,
    POSTGRES_DOWN_S,
    Kind,
    PlannedFault,
)
from bench.chaos.stack import Process, Stack
from infra.local.kafka import LocalKafkaError, partition_leader
from infra.reference import load_jurisdiction
from shaobao.simulation.appeals import fresh_appeals
from shaobao.supervisor import answers_200

RECOVERY_TIMEOUT_S = 90.0
Observed = dict[str, object]


class FaultNotPossibleError(RuntimeError):
    """The stack cannot take this fault now (a worker not running, no cluster of the run's own)."""


@dataclass
class Stopwatch:
    """When the fault struck; set by the fault at the moment it acts."""

    started_at: datetime | None = None

    def start(self) -> None:
        self.started_at = datetime.now(UTC)


@dataclass(frozen=True)
class FaultRecord:
    kind: Kind
    target: str
    planned_at_s: float
    started_at: datetime
    ended_at: datetime
    observed: Observed = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """The fault could not be performed, or the stack did not recover from it in time."""
        return "error" in self.observed or self.observed.get("recovered") is False

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "target": self.target,
            "planned_at_s": self.planned_at_s,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat(),
            **self.observed,
        }


async def perform(stack: Stack, planned: PlannedFault) -> FaultRecord:
    watch = Stopwatch()
    try:
        observed = await FAULTS[planned.kind](stack, planned.target, watch)
    except Exception as error:  # noqa: BLE001 - a fault that could not be performed is recorded, not fatal
        observed = {"error": f"{type(error).__name__}: {error}"}
    ended_at = datetime.now(UTC)
    return FaultRecord(
        planned.kind, planned.target, planned.at_s, watch.started_at or ended_at, ended_at, observed
    )


def _worker(stack: Stack, target: str) -> Process:
    process = stack.processes[target]
    if process.pid is None:
        raise FaultNotPossibleError(f"{target} is not running")
    return process


async def _regrouped(stack: Stack, observed: Observed, unlike: frozenset[str] | None = None) -> Observed:
    """Wait for the group to be Stable with every wanted worker; how long it took, or that it did not."""
    took = await stack.settled(stack.workers_wanted(), unlike, RECOVERY_TIMEOUT_S)
    observed = observed | {"group_stable_after_s": took, "recovered": took is not None}
    if took is None:
        return observed
    # How the intake's partitions fell among the workers (the scale-out figures).
    state, held = await stack.partition_balance()
    if state == "Unknown":
        return observed | {"partitions_per_worker": "unknown (the broker did not say)"}
    return observed | {"partitions_per_worker": sorted(held.values(), reverse=True)}


async def worker_kill(stack: Stack, target: str, watch: Stopwatch) -> Observed:
    """SIGKILL: no leaving the group, no commit; the supervisor starts it again."""
    process = _worker(stack, target)
    _, before = await stack.group_members()
    restarted = process.next_start()
    watch.start()
    pid = process.send(signal.SIGKILL)
    began = time.monotonic()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(restarted.wait(), RECOVERY_TIMEOUT_S)
    observed: Observed = {"pid": pid, "restarted_pid": process.pid, "restarted_after_s": _since(began)}
    return await _regrouped(stack, observed, unlike=before)


async def worker_pause(stack: Stack, target: str, watch: Stopwatch) -> Observed:
    """SIGSTOP past the session timeout (the group gives it up), then SIGCONT (it rejoins)."""
    process = _worker(stack, target)
    _, before = await stack.group_members()
    watch.start()
    pid = process.send(signal.SIGSTOP)
    try:
        await asyncio.sleep(PAUSE_S)
    finally:
        process.send(signal.SIGCONT)
    return await _regrouped(stack, {"pid": pid, "paused_s": PAUSE_S}, unlike=before)


async def worker_join(stack: Stack, target: str, watch: Stopwatch) -> Observed:
    process = stack.processes[target]
    if process.pid is not None:
        raise FaultNotPossibleError(f"{target} is running already")
    watch.start()
    process.start()
    return await _regrouped(stack, {"pid": process.pid})


async def worker_leave(stack: Stack, target: str, watch: Stopwatch) -> Observed:
    """SIGTERM: it leaves the group on its way out and is not started again."""
    process = _worker(stack, target)
    watch.start()
    pid = process.pid
    code = await process.stop()
    return await _regrouped(stack, {"pid": pid, "exit_code": code})


async def broker_kill(stack: Stack, target: str, watch: Stopwatch) -> Observed:
    """SIGKILL the node leading `tickets.events` partition 0; start it again BROKER_DOWN_S later."""
    cluster = stack.services.cluster
    if cluster is None or len(cluster.nodes) < 3:
        raise FaultNotPossibleError("no cluster of three brokers of the run's own")
    access, topic = stack.services.kafka, stack.names.events
    leader = await asyncio.to_thread(partition_leader, access, topic, 0)
    node = cluster.node(leader)
    pid = node.pid()
    watch.start()
    await asyncio.to_thread(node.kill)
    began = time.monotonic()
    try:
        moved_to, moved_after_s = await _leader_other_than(stack, topic, leader, BROKER_DOWN_S)
        await asyncio.sleep(max(0.0, BROKER_DOWN_S - _since(began)))
        down_s = _since(began)
        await asyncio.to_thread(cluster.start)  # the killed node, until every node lists it
    finally:
        if node.pid() is None:  # stopped while the node was down (Ctrl-C): leave the cluster whole
            with contextlib.suppress(LocalKafkaError):
                node.launch()
    observed: Observed = {
        "node": leader,
        "port": node.port,
        "pid": pid,
        "leader_after_kill": moved_to,
        "leader_moved_after_s": moved_after_s,
        "down_s": down_s,
        "serving_again_after_s": round(_since(began) - down_s, 2),
        "restarted_pid": node.pid(),
    }
    observed = await _regrouped(stack, observed)
    return observed | {"leader_after_restart": await _leader(stack, topic)}


async def _leader_other_than(
    stack: Stack, topic: str, killed: int, timeout_s: float
) -> tuple[int | None, float | None]:
    """The partition's next leader and how soon the cluster named it (the dead node stays leader
    until the controller fences it); (None, None) if none within `timeout_s`."""
    began = time.monotonic()
    while time.monotonic() - began < timeout_s:
        leader = await _leader(stack, topic)
        if leader not in (None, killed):
            return leader, _since(began)
        await asyncio.sleep(0.5)
    return None, None


async def _leader(stack: Stack, topic: str) -> int | None:
    try:
        return await asyncio.to_thread(partition_leader, stack.services.kafka, topic, 0)
    except Exception:  # noqa: BLE001 - no leader elected yet: recorded as none
        return None


async def postgres_restart(stack: Stack, target: str, watch: Stopwatch) -> Observed:
    """Stop the run's own PostgreSQL (fast shutdown: clients cut off), start it POSTGRES_DOWN_S later."""
    postgres = stack.services.postgres
    if postgres is None:
        raise FaultNotPossibleError("PostgreSQL is not the run's own")
    pid = postgres.pid()
    watch.start()
    await asyncio.to_thread(postgres.stop)
    began = time.monotonic()
    await asyncio.sleep(POSTGRES_DOWN_S)
    await asyncio.to_thread(postgres.start)
    return {"pid": pid, "restarted_pid": postgres.pid(), "down_s": _since(began)}


async def web_restart(stack: Stack, target: str, watch: Stopwatch) -> Observed:
    """SIGTERM the control room and start it again; over when /health answers 200."""
    process = stack.processes["web"]
    pid = process.pid
    watch.start()
    code = await process.stop()
    process.start()
    began = time.monotonic()
    health = stack.web_url + "/health"
    while not await asyncio.to_thread(answers_200, health):
        if time.monotonic() - began > RECOVERY_TIMEOUT_S:
            return {"pid": pid, "exit_code": code, "recovered": False}
        await asyncio.sleep(0.25)
    return {"pid": pid, "exit_code": code, "restarted_pid": process.pid, "healthy_after_s": _since(began)}


async def burst(stack: Stack, target: str, watch: Stopwatch) -> Observed:
    """BURST_FACTOR times the simulator's rate for BURST_S: many people call about one storm."""
    rate = stack.rate * BURST_FACTOR
    count = round(rate * BURST_S)
    producer = AIOKafkaProducer(**stack.services.kafka.producer_options(linger_ms=5))
    await producer.start()
    try:
        watch.start()
        began = time.monotonic()
        sending = []
        for n, appeal in zip(range(count), fresh_appeals(), strict=False):
            key = f"{appeal['channel']}:{appeal['source_id']}".encode()
            value = json.dumps(appeal, ensure_ascii=False).encode()
            sending.append(await producer.send(stack.names.intake, key=key, value=value))
            await asyncio.sleep(max(0.0, began + (n + 1) / rate - time.monotonic()))
        acked = await asyncio.gather(*sending, return_exceptions=True)
    finally:
        await producer.stop()
    failed = [a for a in acked if isinstance(a, BaseException)]
    return {"rate_per_s": rate, "appeals": count - len(failed), "unacknowledged": len(failed)}


async def poison(stack: Stack, target: str, watch: Stopwatch) -> Observed:
    """Hostile records (not JSON; JSON of the wrong shape) on the intake, the commands and a
    unit's actions: each must end as a rejection or a dead letter, the agents going on."""
    unit = sorted(load_jurisdiction(stack.pipeline.settings.jurisdiction_file).unit_codes)[0]
    tag = f"chaos-poison-{time.time_ns()}"
    records = {
        stack.names.intake: [
            (f"hotline:{tag}-1", b"{not json"),
            (f"hotline:{tag}-2", json.dumps({"channel": "hotline", "source_id": 7}).encode()),
            (f"hotline:{tag}-3", b"[1, 2, 3]"),
        ],
        stack.names.commands: [
            (tag, b"\xff\xfe not json"),
            (tag, json.dumps({"type": "no_such_command", "command_id": f"{tag}-c"}).encode()),
        ],
        stack.names.unit_actions(unit): [
            (tag, b"{"),
            (tag, json.dumps({"type": "sign", "ticket_id": tag}).encode()),
        ],
    }
    producer = AIOKafkaProducer(**stack.services.kafka.producer_options())
    await producer.start()
    placed: list[str] = []
    try:
        watch.start()
        for topic, pairs in records.items():
            for key, value in pairs:
                sent = await producer.send_and_wait(topic, key=key.encode(), value=value)
                placed.append(f"{topic}[{sent.partition}]@{sent.offset}")
    finally:
        await producer.stop()
    return {"records": placed, "intake_records": len(records[stack.names.intake])}


def _since(began: float) -> float:
    return round(time.monotonic() - began, 2)


FAULTS: dict[Kind, Callable[[Stack, str, Stopwatch], Awaitable[Observed]]] = {
    "worker_kill": worker_kill,
    "worker_pause": worker_pause,
    "worker_join": worker_join,
    "worker_leave": worker_leave,
    "broker_kill": broker_kill,
    "postgres_restart": postgres_restart,
    "web_restart": web_restart,
    "burst": burst,
    "poison": poison,
}
