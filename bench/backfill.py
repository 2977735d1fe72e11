"""`make bench` (backfill): `shaobao import csv` of a million legacy rows, and `shaobao replay`
rebuilding PostgreSQL from `tickets.events` into an empty database.

Both run as a user runs them, as child processes (`python -m shaobao.cli …`) against the
running local services, each on topics and a database of its own (`shaobao.launch.isolated_env`),
removed at the end. Timed from the child's start to its exit (Python start-up included);
peak memory is the child's maximum resident set (its own rusage, `os.wait4`).

- import: a legacy export of `--rows` rows (`bench.legacy_rows`: texts from the shipped corpus,
  varied numbers, callers, addresses, channels and time layouts, one row in 10,000 broken)
  onto `appeals.intake`; the figures are checked against the topics' end offsets.
- replay: `--events` ticket events made in process by the project's own decisions and the
  simulated units' and hotline's policies (`bench.ticket_events`), produced to `tickets.events`
  (not timed), then replayed into an empty database (timed), the row counts checked, and
  replayed again onto the full store (timed: everything already present).
Writes its section into BENCHMARKS.md and bench/backfill.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

from bench.legacy_rows import write_legacy_csv
from bench.report import REPORT, markers, write_section
from bench.ticket_events import stamped, template_logs
from infra.kafka.topics import TopicSpec, delete_topics, ensure_topics, list_topic_names
from infra.local.services import ServiceEndpoints, running_services
from shaobao.launch import isolated_env, run_coroutine
from streams.kafka_access import KafkaAccess
from streams.names import TopicNames
from streams.settings import REPO_ROOT, Settings

RESULTS = REPO_ROOT / "bench" / "backfill.json"
BEGIN, END = markers("backfill")
# Measured once, the same way, on the commit before issue 20's item 5 (7e8b0af): the import
# held the whole file and every appeal, and sent each record with its own future; there was
# no `shaobao replay`, an empty store was rebuilt with `shaobao verify --repair`.
BEFORE = """\
Before (commit `7e8b0af`, measured once the same way on the same machine): `shaobao import csv`
of 1,000,000 rows from the same generator took 108.3 s (9,237 rows/s) with a peak of 3,511 MiB;
an empty database was rebuilt with `shaobao verify --repair` (the log and the store read three
times, 3 s apart, then one transaction per ticket, then read again): 83.8 s and 1,780 MiB for
100,004 of these events, where `shaobao replay` takes 9.8 s and 169 MiB."""
KEEP = {"cleanup.policy": "delete", "retention.ms": "-1"}


@contextmanager
def isolated(
    endpoints: ServiceEndpoints, workdir: Path, label: str, topics: list[str]
) -> Iterator[tuple[Settings, dict[str, str]]]:
    """A topic prefix and a database of their own, with `topics` (names of `TopicNames`)
    created, and the environment a user's shell would have for them; removed on exit."""
    env = isolated_env(endpoints.kafka, endpoints.database_url, workdir, label)
    settings = Settings.from_env(env)
    names = TopicNames(settings.topic_prefix)
    specs = [TopicSpec(getattr(names, topic), settings.ticket_partitions, KEEP) for topic in topics]
    run_coroutine(ensure_topics(settings.kafka, specs))
    try:
        yield settings, env
    finally:
        existing = run_coroutine(list_topic_names(settings.kafka))
        run_coroutine(
            delete_topics(settings.kafka, {n for n in existing if n.startswith(settings.topic_prefix)})
        )
        run_coroutine(_drop_database(endpoints.database_url, settings.database_url))


async def _drop_database(admin_url: str, url: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await conn.close()


# Started by a small Python of its own, not by this process: a child's peak RSS (`ru_maxrss`)
# counts the memory of the process it was spawned from (Linux records the old address space's
# high-water mark at exec), and this one holds the whole event log. Prints the exit code, the
# peak RSS in KiB and the CPU seconds of `shaobao`, on stdout's last line.
MEASURED = """
import json, os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=sys.stdout, stderr=sys.stderr)
_, status, usage = os.wait4(child.pid, 0)
print(json.dumps([os.waitstatus_to_exitcode(status), usage.ru_maxrss, usage.ru_utime + usage.ru_stime]))
"""


def run_cli(args: list[str], env: dict[str, str], log: Path) -> dict[str, Any]:
    """`shaobao <args>` as a child: exit code, seconds, its peak RSS, and what it printed."""
    command = [sys.executable, "-c", MEASURED, sys.executable, "-m", "shaobao.cli", *args]
    started = time.perf_counter()
    with log.open("wb") as err:
        child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=err, start_new_session=True)  # noqa: S603
        try:
            out, _ = child.communicate()
        finally:
            if child.returncode is None:  # stopped meanwhile: `shaobao` must not outlive its topics
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
    seconds = time.perf_counter() - started
    *printed, measured = out.decode().splitlines()
    code, peak_kib, cpu_seconds = json.loads(measured)
    return {
        "code": code,
        "seconds": seconds,
        "peak_rss_mib": peak_kib / 1024,
        "cpu_seconds": cpu_seconds,
        "out": "\n".join(printed),
        "err_tail": log.read_text(encoding="utf-8", errors="replace").splitlines()[-3:],
    }


async def end_offsets(kafka: KafkaAccess, topic: str, partitions: int) -> int:
    consumer = AIOKafkaConsumer(**kafka.client_options())
    await consumer.start()
    try:
        found = await consumer.end_offsets([TopicPartition(topic, p) for p in range(partitions)])
        return int(sum(found.values()))
    finally:
        await consumer.stop()


def import_bench(endpoints: ServiceEndpoints, workdir: Path, rows: int) -> dict[str, Any]:
    path = workdir / "legacy.csv"
    print(f"import: writing a legacy CSV of {rows:,} rows…", flush=True)
    started = time.perf_counter()
    write_legacy_csv(path, rows, run=datetime.now(UTC).strftime("%H%M%S"))
    written_s = time.perf_counter() - started
    size_mib = path.stat().st_size / 2**20
    print(f"  {size_mib:.0f} MiB in {written_s:.0f} s; shaobao import csv…", flush=True)
    with isolated(endpoints, workdir, "bfimport", ["intake", "rejected"]) as (settings, env):
        ran = run_cli(["import", "csv", str(path)], env, workdir / "import.err")
        names, parts = TopicNames(settings.topic_prefix), settings.ticket_partitions
        on_intake = run_coroutine(end_offsets(settings.kafka, names.intake, parts))
        on_rejected = run_coroutine(end_offsets(settings.kafka, names.rejected, parts))
    found = re.search(r"read (\d+), accepted (\d+) .*duplicates (\d+), rejected (\d+)", ran["out"])
    if ran["code"] not in (0, 1) or found is None:
        raise RuntimeError(f"import failed ({ran['code']}): {ran['out'][-2000:]} {ran['err_tail']}")
    read, accepted, duplicates, rejected = (int(g) for g in found.groups())
    # Everything read is an appeal on intake or a rejection on appeals.rejected.
    assert read == rows and on_intake == accepted + duplicates and on_rejected == rejected, (on_intake, ran)
    return {
        "rows": rows,
        "file_mib": size_mib,
        "accepted": accepted,
        "duplicates": duplicates,
        "rejected": rejected,
        "seconds": ran["seconds"],
        "rows_per_second": rows / ran["seconds"],
        "cpu_seconds": ran["cpu_seconds"],
        "peak_rss_mib": ran["peak_rss_mib"],
        "progress_tail": ran["err_tail"],
    }


async def produce(kafka: KafkaAccess, topic: str, records: Iterator[tuple[bytes, bytes]]) -> int:
    producer = AIOKafkaProducer(**kafka.producer_options(linger_ms=20, max_batch_size=262144))
    await producer.start()
    sent = 0
    try:
        pending = []
        for key, value in records:
            pending.append(await producer.send(topic, key=key, value=value))
            sent += 1
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent


async def store_counts(database_url: str) -> dict[str, int]:
    conn = await asyncpg.connect(database_url)
    try:
        return {
            table: int(await conn.fetchval(f"SELECT count(*) FROM {table}"))  # noqa: S608 - fixed names
            for table in ("ticket_events", "tickets", "ticket_callbacks")
        }
    finally:
        await conn.close()


def replay_bench(endpoints: ServiceEndpoints, workdir: Path, events: int, templates: int) -> dict[str, Any]:
    print(f"replay: {templates:,} ticket lives through the domain, stamped to {events:,} events…", flush=True)
    started = time.perf_counter()
    lives = template_logs(templates)
    made_s = time.perf_counter() - started
    records = list(stamped(lives, events))
    tickets = len({key for key, _ in records})
    with isolated(endpoints, workdir, "bfreplay", ["events"]) as (settings, env):
        topic = TopicNames(settings.topic_prefix).events
        started = time.perf_counter()
        run_coroutine(produce(settings.kafka, topic, iter(records)))
        produced_s = time.perf_counter() - started
        print(
            f"  {len(records):,} events of {tickets:,} tickets on {topic} ({produced_s:.0f} s); replay…",
            flush=True,
        )
        first = run_cli(["replay"], env, workdir / "replay.err")
        counts = run_coroutine(store_counts(settings.database_url))
        print(f"  {first['out'].strip()}; again onto the full store…", flush=True)
        again = run_cli(["replay"], env, workdir / "replay-again.err")
    for ran in (first, again):
        if ran["code"] != 0:
            raise RuntimeError(f"replay failed ({ran['code']}): {ran['out']} {ran['err_tail']}")
    written = int(re.search(r"written (\d+)", first["out"]).group(1))  # type: ignore[union-attr]
    present = int(re.search(r"already present (\d+)", again["out"]).group(1))  # type: ignore[union-attr]
    assert written == len(records) == counts["ticket_events"] == present and counts["tickets"] == tickets, (
        counts
    )
    assert "written 0," in again["out"], again["out"]
    return {
        "events": len(records),
        "tickets": tickets,
        "templates": templates,
        "template_seconds": made_s,
        "bytes_per_event": sum(len(v) for _, v in records) / len(records),
        "stored": counts,
        "seconds": first["seconds"],
        "events_per_second": len(records) / first["seconds"],
        "cpu_seconds": first["cpu_seconds"],
        "peak_rss_mib": first["peak_rss_mib"],
        "summary": first["out"].strip().splitlines(),
        "again_seconds": again["seconds"],
        "again_events_per_second": len(records) / again["seconds"],
        "again_summary": again["out"].strip().splitlines(),
    }


def table(title: str, rows: list[tuple[str, str]]) -> str:
    return "\n".join(
        [f"| {title} | value |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)]
    )


def section(r: dict[str, Any]) -> str:
    imp, rep = r["import"], r["replay"]
    stored = rep["stored"]
    imported = table(
        "`shaobao import csv`",
        [
            (
                f"legacy rows (UTF-8 with BOM, {imp['file_mib']:.0f} MiB: corpus texts, 5 time layouts, "
                "13 channel words, 1 row in 10,000 broken)",
                f"{imp['rows']:,}",
            ),
            (
                "accepted onto `appeals.intake` / duplicates / rejected onto `appeals.rejected`",
                f"{imp['accepted']:,} / {imp['duplicates']:,} / {imp['rejected']:,}",
            ),
            ("wall time", f"{imp['seconds']:.1f} s (CPU {imp['cpu_seconds']:.1f} s)"),
            ("throughput", f"**{imp['rows_per_second']:,.0f} rows/s**"),
            ("peak memory (RSS)", f"{imp['peak_rss_mib']:.0f} MiB"),
        ],
    )
    replayed = table(
        "`shaobao replay` (`tickets.events` → an empty database)",
        [
            (
                f"events / tickets ({rep['templates']:,} lives through `domain.ticket.decide` and "
                f"the simulated "
                f"units and hotline, stamped with fresh ids; {rep['bytes_per_event']:.0f} bytes/event)",
                f"{rep['events']:,} / {rep['tickets']:,}",
            ),
            (
                "rows after: `ticket_events` / `tickets` / `ticket_callbacks`",
                f"{stored['ticket_events']:,} / {stored['tickets']:,} / {stored['ticket_callbacks']:,}",
            ),
            ("wall time", f"{rep['seconds']:.1f} s (CPU {rep['cpu_seconds']:.1f} s)"),
            ("throughput", f"**{rep['events_per_second']:,.0f} events/s**"),
            ("peak memory (RSS)", f"{rep['peak_rss_mib']:.0f} MiB"),
            (
                "again onto the full store (every event already present, each compared)",
                f"{rep['again_seconds']:.1f} s ({rep['again_events_per_second']:,.0f} events/s)",
            ),
        ],
    )
    return f"""{BEGIN}
## Backfill: a legacy import, and PostgreSQL rebuilt from the log
Measured {r["measured_at"]} by `bench/backfill.py` (commit `{r["commit"]}`); {os.cpu_count()} cores
shared with Kafka and PostgreSQL, load average {r["load_average_1min"]:.1f} at the end. Each command
runs as a user runs it, a child process on topics and a database of its own, timed from its
start to its exit (Python start-up included); memory is its peak resident set.

{imported}

{replayed}

{BEFORE}
{END}"""


def commit() -> str:
    found = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False, cwd=REPO_ROOT
    )
    return found.stdout.strip() or "uncommitted"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="legacy CSV rows to import")
    parser.add_argument("--events", type=int, default=300_000, help="ticket events to replay")
    parser.add_argument("--templates", type=int, default=2_000, help="ticket lives the events are copies of")
    args = parser.parse_args()
    # `timeout` stops us with SIGTERM: unwind, so the topics and databases are removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    state = Path(os.environ.get("SHAOBAO_STATE_DIR", REPO_ROOT / ".state"))
    with running_services(state) as endpoints, tempfile.TemporaryDirectory() as tmp:
        imported = import_bench(endpoints, Path(tmp), args.rows)
        print(
            f"  {imported['rows_per_second']:,.0f} rows/s ({imported['seconds']:.1f} s), "
            f"peak RSS {imported['peak_rss_mib']:.0f} MiB",
            flush=True,
        )
        replayed = replay_bench(endpoints, Path(tmp), args.events, min(args.templates, args.events))
        print(
            f"  {replayed['events_per_second']:,.0f} events/s ({replayed['seconds']:.1f} s), "
            f"peak RSS {replayed['peak_rss_mib']:.0f} MiB; again {replayed['again_seconds']:.1f} s",
            flush=True,
        )
    results = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit(),
        "load_average_1min": os.getloadavg()[0],
        "import": imported,
        "replay": replayed,
    }
    write_section(RESULTS, results, section(results), BEGIN, END)
    print(f"wrote the backfill section of {REPORT} and {RESULTS}")


if __name__ == "__main__":
    main()
