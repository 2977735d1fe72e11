"""`make bench`: end-to-end throughput and latency of the pipeline, the bare-Python ceiling,
and a peer stream processor (quixstreams, bench/peer.py) over the same appeals.

Runs on the real local services (started if needed) with an isolated pipeline (fresh
database, unique topic prefix, one worker). Writes BENCHMARKS.md and bench/results.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import TopicPartition

from bench.peer import Records, figure, peer_quixstreams, quixstreams_version
from bench.report import REPORT, markers, write_section
from infra.local.services import running_services
from infra.reference import load_jurisdiction
from schemas.appeal import Appeal
from shaobao.launch import Pipeline, isolated_pipeline
from shaobao.simulation.appeals import fresh_appeals
from streams.kafka_access import KafkaAccess
from streams.settings import REPO_ROOT, Settings

RESULTS = REPO_ROOT / "bench" / "results.json"


def encoded_appeals(n: int, seed: int) -> list[tuple[bytes, bytes]]:
    out = []
    for appeal, _ in zip(fresh_appeals(seed), range(n), strict=False):
        key = f"{appeal['channel']}:{appeal['source_id']}".encode()
        out.append((key, json.dumps(appeal, ensure_ascii=False).encode()))
    return out


async def produce_all(kafka: KafkaAccess, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(**kafka.producer_options(linger_ms=20, max_batch_size=262144))
    await producer.start()
    try:
        futures = [await producer.send(topic, key=k, value=v) for k, v in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def ceiling(kafka: KafkaAccess, prefix: str, records: list[tuple[bytes, bytes]]) -> dict[str, float]:
    """A bare aiokafka consume → decode (pydantic) → produce loop over the same messages."""
    source, sink = f"{prefix}ceiling.in", f"{prefix}ceiling.out"
    admin = AIOKafkaAdminClient(**kafka.client_options())
    await admin.start()
    await admin.create_topics([NewTopic(source, 6, 1), NewTopic(sink, 6, 1)])
    await admin.close()
    await produce_all(kafka, source, records)
    consumer = AIOKafkaConsumer(
        source,
        **kafka.client_options(),
        auto_offset_reset="earliest",
        group_id=f"{prefix}ceiling",
        enable_auto_commit=False,
        max_poll_records=2000,
    )
    producer = AIOKafkaProducer(**kafka.producer_options(linger_ms=5))
    await consumer.start()
    await producer.start()
    done, started = 0, time.perf_counter()
    try:
        while done < len(records):
            batch = await consumer.getmany(timeout_ms=1000)
            futures = []
            for messages in batch.values():
                for message in messages:
                    appeal = Appeal.model_validate_json(message.value)
                    futures.append(
                        await producer.send(sink, key=message.key, value=appeal.model_dump_json().encode())
                    )
            await asyncio.gather(*futures)
            await consumer.commit()
            done += len(futures)
        elapsed = time.perf_counter() - started
    finally:
        await consumer.stop()
        await producer.stop()
    return {"messages": float(done), "seconds": elapsed, "per_second": done / elapsed}


async def order_count(consumer: AIOKafkaConsumer, pipeline: Pipeline) -> int:
    """How many work orders all `units.*.orders` topics hold now (sum of end offsets)."""
    units = load_jurisdiction(pipeline.settings.jurisdiction_file).unit_codes
    partitions = [
        TopicPartition(pipeline.names.unit_orders(unit), p)
        for unit in units
        for p in range(pipeline.settings.unit_partitions)
    ]
    return int(sum((await consumer.end_offsets(partitions)).values()))


async def end_to_end(pipeline: Pipeline, records: list[tuple[bytes, bytes]]) -> dict[str, float]:
    """Appeals/s from the first produce until every ticket row and every order exists."""
    kafka, db_url = pipeline.settings.kafka, pipeline.settings.database_url
    conn = await asyncpg.connect(db_url)
    target = await conn.fetchval("SELECT count(*) FROM tickets") + len(records)
    started = time.perf_counter()
    await produce_all(kafka, pipeline.names.intake, records)
    produced = time.perf_counter() - started
    last_print = 0.0
    while (rows := await conn.fetchval("SELECT count(*) FROM tickets")) < target:
        if time.perf_counter() - last_print > 5:
            print(f"  end-to-end: {rows}/{target} tickets in PostgreSQL", flush=True)
            last_print = time.perf_counter()
        await asyncio.sleep(0.2)
    expected = await conn.fetchval(
        "SELECT coalesce(sum(1 + cardinality(co_units)), 0) FROM tickets WHERE status = 'dispatched'"
    )
    consumer = AIOKafkaConsumer(**kafka.client_options())
    await consumer.start()
    try:
        while (orders := await order_count(consumer, pipeline)) < expected:
            if time.perf_counter() - last_print > 5:
                print(f"  end-to-end: {orders}/{expected} work orders", flush=True)
                last_print = time.perf_counter()
            await asyncio.sleep(0.2)
    finally:
        await consumer.stop()
    elapsed = time.perf_counter() - started
    await conn.close()
    return figure(len(records), orders, produced, elapsed)


async def latency(pipeline: Pipeline, count: int, rate: float) -> dict[str, float]:
    """Intake → lead order latency at a fixed rate, from `received_at` (set at produce time)."""
    kafka, prefix = pipeline.settings.kafka, pipeline.settings.topic_prefix
    consumer = AIOKafkaConsumer(**kafka.client_options(), auto_offset_reset="latest", group_id=None)
    await consumer.start()
    consumer.subscribe(pattern=f"^{prefix.replace('.', '[.]')}units[.].*[.]orders$")
    await consumer.getmany(timeout_ms=2000)  # join and position at the end before producing
    producer = AIOKafkaProducer(**kafka.producer_options(linger_ms=0))
    await producer.start()
    latencies: list[float] = []
    expected_leads = 0

    async def feed() -> None:
        nonlocal expected_leads
        for appeal, _ in zip(fresh_appeals(7), range(count), strict=False):
            appeal["received_at"] = datetime.now(UTC).isoformat()
            key = f"{appeal['channel']}:{appeal['source_id']}".encode()
            await producer.send(
                pipeline.names.intake, key=key, value=json.dumps(appeal, ensure_ascii=False).encode()
            )
            await asyncio.sleep(1 / rate)

    feeding = asyncio.create_task(feed())
    idle_since = time.perf_counter()
    while not feeding.done() or time.perf_counter() - idle_since < 5:
        batch = await consumer.getmany(timeout_ms=500)
        now = datetime.now(UTC)
        for messages in batch.values():
            for message in messages:
                order = json.loads(message.value)
                if order["role"] == "lead":
                    received = datetime.fromisoformat(order["received_at"])
                    latencies.append((now - received).total_seconds() * 1000)
                    idle_since = time.perf_counter()
    await feeding
    await producer.stop()
    await consumer.stop()
    latencies.sort()
    return {
        "rate_per_second": rate,
        "appeals": float(count),
        "orders_seen": float(len(latencies)),
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1],
        "max_ms": latencies[-1],
    }


def triage_speed(rounds: int = 20) -> dict[str, float]:
    """Triage decisions per second on one core, over the corpus repeated `rounds` times."""
    from infra.reference import load_configured

    router = load_configured(Settings.from_env(), datetime.now(UTC)).router
    appeals = [Appeal.model_validate(json.loads(v)) for _, v in encoded_appeals(420, seed=3)]
    timings: list[float] = []
    for _ in range(rounds):
        for appeal in appeals:
            started = time.perf_counter()
            router.decide(appeal)
            timings.append(time.perf_counter() - started)
    timings.sort()
    return {
        "decisions": float(len(timings)),
        "per_second": len(timings) / sum(timings),
        "p50_ms": statistics.median(timings) * 1000,
        "p99_ms": timings[int(len(timings) * 0.99) - 1] * 1000,
    }


def machine() -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    commit = (
        subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            cwd=REPO_ROOT,
        ).stdout.strip()
        or "uncommitted"
    )
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory_gib": f"{mem_kb / 1024 / 1024:.1f}",
        "python": platform.python_version(),
        "kernel": platform.release(),
        "commit": commit,
    }


def write_report(results: dict[str, Any]) -> None:
    e2e, ceil, lat, m = results["end_to_end"], results["ceiling"], results["latency"], results["machine"]
    tri, quix = results["triage"], results["peer_quixstreams"]
    ratio = e2e["per_second"] / ceil["per_second"]
    begin, end = markers("pipeline")
    block = f"""{begin}
Measured by `make bench` on {results["measured_at"]} (commit `{m["commit"]}`).
Machine: {m["cpu"]}, {m["cores"]} cores, {m["memory_gib"]} GiB, Python {m["python"]}, Linux {m["kernel"]}.
Kafka 3.9.1 single node (KRaft) and PostgreSQL on the same machine, one worker (agent concurrency 1).

## Pipeline (intake → ticket → order and PostgreSQL row)
| measure | value |
|---|---|
| appeals produced | {int(e2e["appeals"])} |
| work orders produced | {int(e2e["orders"])} |
| end-to-end throughput | **{e2e["per_second"]:.0f} appeals/s** ({e2e["seconds"]:.1f} s for all) |
| bare aiokafka consume → decode → produce ceiling | {ceil["per_second"]:.0f} messages/s |
| ratio to the ceiling | {ratio:.2f} |
| peer: quixstreams {quix["version"]}, the same appeals through a minimal topology | \
{quix["per_second"]:.0f} appeals/s ({quix["seconds"]:.1f} s for all) |
| Shaobao to the peer | {e2e["per_second"] / quix["per_second"]:.2f} |

The pipeline does per appeal: intake validation + dedupe table + triage, one command,
a fold in the ticket table, two events, orders per unit, and a batched PostgreSQL write;
the ceiling does one decode and one produce. The peer (`bench/peer_quix.py`, its own process,
{quix["processing_guarantee"]}, commits every {quix["commit_interval_s"]:g} s, RocksDB state with changelogs)
does per appeal: a JSON decode, a dedupe state per intake key, one command repartitioned by
ticket id, a ticket state, and one work order; no validation, triage, events or database.

## Latency at a fixed rate
| measure | value |
|---|---|
| rate | {lat["rate_per_second"]:.0f} appeals/s for {int(lat["appeals"])} appeals |
| lead orders seen | {int(lat["orders_seen"])} |
| intake → lead order p50 | {lat["p50_ms"]:.0f} ms |
| intake → lead order p99 | {lat["p99_ms"]:.0f} ms |
| max | {lat["max_ms"]:.0f} ms |

## Triage (one core, in process)
| measure | value |
|---|---|
| decisions | {int(tri["decisions"])} (the corpus, repeated) |
| throughput | {tri["per_second"]:.0f} decisions/s |
| p50 / p99 per decision | {tri["p50_ms"]:.2f} ms / {tri["p99_ms"]:.2f} ms |
{end}"""
    write_section(RESULTS, results, block, begin, end)


def peer(kafka: KafkaAccess, prefix: str, partitions: int, records: Records, workdir: Path) -> dict[str, Any]:
    """The quixstreams peer over `records`, after a warm-up like Shaobao's (not counted)."""
    print(f"peer: quixstreams, 500 appeals warm-up then {len(records)} appeals…", flush=True)
    warm_up = encoded_appeals(500, seed=1)
    figure = asyncio.run(peer_quixstreams(kafka, prefix, partitions, warm_up, records, produce_all, workdir))
    print(f"  {figure['per_second']:.0f} appeals/s (quixstreams {figure['version']})", flush=True)
    return figure


def peer_only(state: Path, appeals: int) -> None:
    """Only the peer, on its own topic prefix; prints its figure and writes nothing."""
    with running_services(state) as endpoints, tempfile.TemporaryDirectory() as tmp:
        prefix = f"benchpeer{uuid.uuid4().hex[:8]}."
        partitions = Settings().ticket_partitions
        peer(endpoints.kafka, prefix, partitions, encoded_appeals(appeals, seed=42), Path(tmp))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appeals", type=int, default=int(os.environ.get("BENCH_APPEALS", 20000)))
    parser.add_argument("--rate", type=float, default=100.0, help="appeals/s for the latency run")
    parser.add_argument("--latency-appeals", type=int, default=2000)
    parser.add_argument(
        "--peer-only", action="store_true", help="only the quixstreams peer: print its figure, write nothing"
    )
    args = parser.parse_args()
    # `timeout` or a CI runner stops us with SIGTERM: unwind so the worker and topics are cleaned up.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    quixstreams_version()  # missing, it stops the run here rather than after the other figures
    state = Path(os.environ.get("SHAOBAO_STATE_DIR", REPO_ROOT / ".state"))
    if args.peer_only:
        peer_only(state, args.appeals)
        return
    with running_services(state) as endpoints, tempfile.TemporaryDirectory() as tmp:
        with isolated_pipeline(endpoints.kafka, endpoints.database_url, Path(tmp), "bench") as p:
            records = encoded_appeals(args.appeals, seed=42)
            print(f"ceiling: bare loop over {len(records)} messages…", flush=True)
            ceil = asyncio.run(ceiling(p.settings.kafka, p.settings.topic_prefix, records))
            print(f"  {ceil['per_second']:.0f} msg/s", flush=True)
            print("warm-up: 500 appeals (not counted)…", flush=True)
            asyncio.run(end_to_end(p, encoded_appeals(500, seed=1)))
            print(f"end-to-end: {len(records)} appeals…", flush=True)
            e2e = asyncio.run(end_to_end(p, records))
            print(f"  {e2e['per_second']:.0f} appeals/s", flush=True)
            settings = p.settings
            quix = peer(settings.kafka, settings.topic_prefix, settings.ticket_partitions, records, Path(tmp))
            print(f"latency: {args.latency_appeals} appeals at {args.rate:.0f}/s…", flush=True)
            lat = asyncio.run(latency(p, args.latency_appeals, args.rate))
            print(f"  p50 {lat['p50_ms']:.0f} ms, p99 {lat['p99_ms']:.0f} ms", flush=True)
    print("triage: one core…", flush=True)
    tri = triage_speed()
    print(f"  {tri['per_second']:.0f} decisions/s", flush=True)
    results = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "ceiling": ceil,
        "end_to_end": e2e,
        "latency": lat,
        "triage": tri,
        "peer_quixstreams": quix,
    }
    write_report(results)
    print(f"wrote {REPORT} and {RESULTS}")


if __name__ == "__main__":
    main()
