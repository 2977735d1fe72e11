"""`make chaos` in short (issue 16): on the session's broker and PostgreSQL, a live stack under
steady load (appeals from the simulator, the units and the hotline's callbacks acting, limits
of half a minute falling due) takes a worker joining, one killed, one paused past its session,
the joined one leaving, hostile records and a burst at ten times the rate; then, measured
from the topics and the store (`bench.chaos.audit`), nothing is lost, doubled or missed and
dispatching never stalled longer than 30 s. The whole run, start-up and audit included, takes
at most three minutes."""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.chaos.run import MAX_STALL_S, ZERO_OUTCOMES, run_chaos
from bench.chaos.schedule import SHORT_PLAN
from bench.chaos.stack import Services
from infra.local.services import ServiceEndpoints
from streams.kafka_access import KafkaAccess

pytestmark = pytest.mark.integration
RATE = 5.0
BUDGET_S = 180.0
POISON_INTAKE = 3  # hostile records each poison puts on the intake (bench/chaos/faults.py)


async def records_on(kafka: KafkaAccess, topic: str, partitions: int) -> int:
    consumer = AIOKafkaConsumer(**kafka.client_options(), group_id=None)
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in range(partitions)])
        return sum(ends.values())
    finally:
        await consumer.stop()


async def test_a_short_fault_schedule_under_load_loses_doubles_and_misses_nothing(
    endpoints: ServiceEndpoints, tmp_path: Path
) -> None:
    began = time.monotonic()
    seed = random.randrange(1_000_000)
    services = Services(kafka=endpoints.kafka, database_url=endpoints.database_url)
    result = await run_chaos(services, tmp_path, short=True, rate=RATE, seed=seed)
    took = time.monotonic() - began
    found = result.as_dict()
    (tmp_path / "chaos.json").write_text(json.dumps(found, indent=2, ensure_ascii=False, default=str))
    shown = f"seed {seed}, {took:.0f} s; see {tmp_path}/chaos.json and {tmp_path}/logs"

    assert {name: found[name] for name in ZERO_OUTCOMES} == dict.fromkeys(ZERO_OUTCOMES, 0), shown
    assert result.outcomes.max_stall_s <= MAX_STALL_S, shown
    # Every planned fault performed, once, and the stack whole again after each.
    assert Counter(f.kind for f in result.faults) == Counter(kind for _, kind in SHORT_PLAN), shown
    assert [f.as_dict() for f in result.faults if f.failed] == [], shown
    assert [f.kind for f in result.faults] == [kind for _, kind in SHORT_PLAN]
    assert all(f.started_at <= f.ended_at for f in result.faults)
    assert result.workers_max == 2
    # Nothing stopped on its own: the only exits are the kills the faults made.
    killed = [f.target for f in result.faults if f.kind == "worker_kill"]
    assert [(e.process, e.planned) for e in result.exits] == [(t, True) for t in killed], shown

    # Every record on the intake is one appeal the audit accounted for: the simulator's, the
    # burst's (each acknowledged), and the poison's, which are the only rejections.
    settings = result.pipeline.settings
    intake = await records_on(settings.kafka, result.pipeline.names.intake, settings.ticket_partitions)
    burst = next(f for f in result.faults if f.kind == "burst").observed
    assert burst["unacknowledged"] == 0
    simulated = intake - int(str(burst["appeals"])) - POISON_INTAKE
    assert simulated > 0.5 * RATE * result.load_s, (intake, burst, shown)
    assert result.outcomes.appeals == result.intake_records == intake
    assert result.outcomes.fates == {
        "ticket": intake - POISON_INTAKE,
        "duplicate": 0,
        "rejection": POISON_INTAKE,
        "dead_letter": 0,
    }, shown
    assert took <= BUDGET_S, shown
