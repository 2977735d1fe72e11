"""An exception that escapes an agent stops the worker without committing, and the restarted
worker resumes where the last commit left it: nothing is skipped (issue 13).

Faust acks the message an agent was processing when an exception leaves the agent, and its
supervisor restarts the agent after it: a silent loss. Here a crash is injected into every
agent at a message chosen at random (`streams.faults`, printed with its seed), the worker
exits 70 each time, this test restarts it as `make run`'s supervisor would, and afterwards
every input is accounted for exactly: every intake record is a ticket, a duplicate, a
rejection or a dead letter; every event is in the store (`shaobao verify`: 0 differences);
every work order the log calls for was sent, and copies of one order id are identical.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from infra.kafka.topics import ensure_topics
from infra.local.services import ServiceEndpoints
from infra.reference import load_jurisdiction
from shaobao.bootstrap import all_topic_specs
from shaobao.launch import Pipeline, isolated_env, run_coroutine, start_worker, stop_process, wait_for_worker
from streams.names import TopicNames
from streams.settings import Settings
from tests.integration.clitools import shaobao
from tests.integration.kafkatools import appeal, encoded, produce
from tests.integration.topictools import produce_placed, read_topics

pytestmark = pytest.mark.integration
APPEALS = 30
BAD = 3
EXIT_CRASHED = 70


class Restarting:
    """A worker started again whenever it exits, as `make run`'s supervisor does; exit codes kept."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.exits: list[int] = []
        self.process = start_worker(env, log)

    def poll(self) -> None:
        code = self.process.poll()
        if code is not None:
            self.exits.append(code)
            self.process = start_worker(self.env, self.log)

    def stop(self) -> None:
        stop_process(self.process)


def plan(seed: int) -> str:
    """A crash in every agent at a random message (the sink: at a random batch), and one poison."""
    rng = random.Random(seed)
    crashes = {
        "take_in_appeals": rng.randint(2, APPEALS),
        "handle_ticket_commands": rng.randint(2, 2 * APPEALS),
        "fan_out_work_orders": rng.randint(2, 2 * APPEALS),
        "index_ticket_clocks": rng.randint(2, 2 * APPEALS),
        "take_in_unit_actions": rng.randint(2, APPEALS - 5),
        "record_ticket_events": rng.randint(1, 2),
        "record_rejections": 1,
    }
    faults = [f"{agent}:crash@{at}" for agent, at in crashes.items()]
    poison = rng.choice([at for at in range(2, APPEALS) if at != crashes["take_in_appeals"]])
    return ",".join([*faults, f"take_in_appeals:poison@{poison}"])


@pytest.fixture
def crashing(endpoints: ServiceEndpoints, tmp_path: Path) -> Iterator[tuple[Pipeline, Restarting, str]]:
    seed = random.randrange(1_000_000)
    faults = plan(seed)
    print(f"fault plan (seed {seed}): {faults}")
    env = isolated_env(endpoints.kafka, endpoints.database_url, tmp_path, "crash")
    env |= {"SHAOBAO_FAULTS": faults, "SHAOBAO_FAULTS_FILE": str(tmp_path / "faults.fired")}
    settings = Settings.from_env(env)
    run_coroutine(
        ensure_topics(
            settings.kafka,
            all_topic_specs(settings, load_jurisdiction(settings.jurisdiction_file)),
        )
    )
    log = tmp_path / "worker.log"
    worker = Restarting(env, log)
    try:
        wait_for_worker(worker.process, settings, log)
        pipeline = Pipeline(
            settings=settings, names=TopicNames(settings.topic_prefix), env=env, worker_log=log
        )
        yield pipeline, worker, faults
    finally:
        worker.stop()


async def supervise(worker: Restarting, until: Any, timeout_s: float) -> Any:
    """Restart the worker whenever it exits, until `until()` gives something."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        worker.poll()
        found = await until()
        if found:
            return found
        await asyncio.sleep(0.5)
    raise AssertionError(f"not done in {timeout_s}s; worker exits so far: {worker.exits}")


async def test_a_crash_in_any_agent_loses_nothing_and_skips_nothing(
    crashing: tuple[Pipeline, Restarting, str],
) -> None:
    stack, worker, faults = crashing
    kafka = stack.settings.kafka
    run = uuid.uuid4().hex[:8]
    appeals = [appeal(source_id=f"crash-{run}-{i:03d}") for i in range(APPEALS)]
    records = [encoded(a) for a in appeals]
    records += [(f"bad:{run}:{i}".encode(), b"{not json " + str(i).encode()) for i in range(BAD)]
    records.append(encoded(appeals[0]))  # the same appeal again: a duplicate
    placed = await produce_placed(kafka, stack.names.intake, records)
    db = await asyncpg.connect(stack.settings.database_url)
    try:
        fates = await supervise(worker, lambda: intake_fates(db, stack, placed), 300)
        tickets = sorted(t for kind, t in fates.values() if kind == "ticket")
        # Every ticket dispatched (to zjj, with baimaqiao), then signed by zjj on its own topic.
        await supervise(worker, lambda: all_in(db, tickets, "dispatched"), 120)
        actions = [
            (
                t.encode(),
                json.dumps(
                    {
                        "type": "sign",
                        "action_id": f"sign-{t}",
                        "ticket_id": t,
                        "acted_at": "2026-03-02T10:00:00+08:00",
                    }
                ).encode(),
            )
            for t in tickets
        ]
        await produce(kafka, stack.names.unit_actions("zjj"), actions)
        await supervise(worker, lambda: all_in(db, tickets, "signed"), 180)
        fired = Path(stack.env["SHAOBAO_FAULTS_FILE"])
        await supervise(worker, lambda: all_fired(fired, faults), 60)
        await supervise(worker, lambda: store_settled(db, len(tickets)), 60)
    finally:
        await db.close()

    crashes = [f for f in faults.split(",") if ":crash@" in f]
    assert worker.exits == [EXIT_CRASHED] * len(crashes), f"exits {worker.exits}; see {stack.worker_log}"
    kinds: defaultdict[str, int] = defaultdict(int)
    for kind, _ in fates.values():
        kinds[kind] += 1
    # One poisoned record (wherever it fell), the rest as their payloads call for.
    assert kinds["dead_letter"] == 1 and sum(kinds.values()) == len(placed), dict(kinds)
    assert (
        kinds["ticket"] + kinds["dead_letter"] + kinds["rejection"] + kinds["duplicate"] == APPEALS + BAD + 1
    )
    assert kinds["rejection"] in (BAD, BAD - 1) and kinds["duplicate"] in (0, 1), dict(kinds)
    await orders_once(stack, tickets)
    verified = await shaobao(stack, "verify")
    assert verified.code == 0 and "0 differences" in verified.out, verified.out + verified.err
    log = stack.worker_log.read_text(errors="replace")
    assert "Crashed reason" not in log
    # Each crash left the group on its way out (streams.departure), so no restart waited out a
    # dead member's session.
    assert log.count("left the consumer group before exiting") == len(crashes), stack.worker_log


async def intake_fates(
    db: asyncpg.Connection, stack: Pipeline, placed: list[Any]
) -> dict[tuple[int, int], tuple[str, str]] | None:
    """Each intake record's fate, once every one has exactly one; None before."""
    topic = stack.names.intake
    tickets = {r["ticket_id"] for r in await db.fetch("SELECT ticket_id FROM tickets")}
    duplicates = {
        r["command_id"]: r["ticket_id"]
        for r in await db.fetch(
            "SELECT ticket_id, payload->>'command_id' AS command_id FROM ticket_events"
            " WHERE type = 'duplicate_received'"
        )
    }
    rejected = {r["rejection_id"] for r in await db.fetch("SELECT rejection_id FROM appeal_rejections")}
    dead = {
        f"{r['source_topic']}:{r['source_partition']}:{r['source_offset']}"
        for r in await db.fetch("SELECT source_topic, source_partition, source_offset FROM dead_letters")
    }
    fates: dict[tuple[int, int], tuple[str, str]] = {}
    for p in placed:
        where = f"{topic}:{p.partition}:{p.offset}"
        found = [("ticket", t) for t in tickets if t.endswith(f"-{p.partition:02d}-{p.offset:06d}")] + [
            ("duplicate", t) for c, t in duplicates.items() if c.endswith(f":{p.partition}:{p.offset}")
        ]
        found += [("rejection", where)] if where in rejected else []
        found += [("dead_letter", where)] if where in dead else []
        if len(found) > 1:
            raise AssertionError(f"{where} has {found}")
        if not found:
            return None
        fates[(p.partition, p.offset)] = found[0]
    return fates


async def all_in(db: asyncpg.Connection, tickets: list[str], status: str) -> bool:
    rows = await db.fetch("SELECT status FROM tickets WHERE ticket_id = ANY($1::text[])", tickets)
    return len(rows) == len(tickets) and all(r["status"] == status for r in rows)


async def all_fired(ledger: Path, faults: str) -> bool:
    fired = json.loads(ledger.read_text()).get("fired", []) if ledger.exists() else []
    return set(fired) == set(faults.split(","))


async def store_settled(db: asyncpg.Connection, tickets: int) -> bool:
    """The sink has written the sign of every ticket (3 events each: received, dispatched, signed)."""
    signed: int = await db.fetchval("SELECT count(*) FROM ticket_events WHERE type = 'order_signed'")
    return signed == tickets


async def orders_once(stack: Pipeline, tickets: list[str]) -> None:
    """Each dispatched ticket's order reached zjj and baimaqiao; copies of an order id are equal."""
    kafka = stack.settings.kafka
    for unit in ("zjj", "baimaqiao"):
        by_id: dict[str, set[bytes]] = defaultdict(set)
        kinds: dict[str, str] = {}
        for record in await read_topics(kafka, [stack.names.unit_orders(unit)]):
            order = json.loads(record.value or b"")
            by_id[order["order_id"]].add(record.value or b"")
            kinds[order["order_id"]] = f"{order['ticket_id']}:{order['kind']}"
        conflicting = [i for i, copies in by_id.items() if len(copies) > 1]
        assert conflicting == [], f"{unit}: different orders under one id: {conflicting[:3]}"
        dispatched = sorted(v.split(":")[0] for v in kinds.values() if v.endswith(":order"))
        assert dispatched == tickets, f"{unit}: {len(dispatched)} dispatch orders for {len(tickets)} tickets"
