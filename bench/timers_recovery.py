"""`make bench` (timers, through the broker): one real worker recovering N open tickets.

`bench/timers.py` measures the due-index in process; this one adds Kafka. It writes N
`TicketState` values (built as `bench/timers.py` builds them) straight into the `tickets`
table's changelog topic, keyed and partitioned as Faust writes them, then starts ONE real
worker on that prefix (as after a kill) and reads `tickets.commands`:

- start → first `FlagLimit` (timers firing again), and → every mark that fell due "during
  the outage" (`--overdue` tickets, all six marks passed) sent;
- firing delay (`issued_at` - due instant) of the marks of `--firing` tickets that fall due
  in a window after the worker is up; marks that fell due while it was still recovering
  are counted apart (they were part of the backlog);
- the worker's peak resident memory (VmHWM), and when its log reached each recovery step.
Writes its section into BENCHMARKS.md and bench/timers_recovery.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord, TopicPartition

from bench.report import REPORT, markers, write_section
from bench.timers import percentile, shifted_clocks, template
from infra.kafka.topics import delete_topics, ensure_topics, list_topic_names
from infra.local.services import running_services
from infra.reference import load_jurisdiction
from schemas.commands import FlagLimit
from shaobao.bootstrap import all_topic_specs
from shaobao.launch import isolated_env, run_coroutine, start_worker, stop_process
from streams.kafka_access import KafkaAccess
from streams.names import TopicNames
from streams.partitioning import partition_for
from streams.settings import REPO_ROOT, Settings

RESULTS = REPO_ROOT / "bench" / "timers_recovery.json"
BEGIN, END = markers("timers-recovery")
MARKS = ("at_risk", "overdue", "supervise")
# Worker log lines whose first appearance is timed (Faust's recovery, then our rebuild).
STEPS = (
    "Restoring state from changelog topics",
    "Done reading from changelog topics",
    "Recovery complete",
    "due-index rebuilt",
    "Worker ready",
)


def tickets_states(n: int, overdue: int, firing: int, window: tuple[datetime, float], now: datetime) -> Any:
    """(ticket id, state JSON, {command id: due instant} of the measured marks) for N tickets."""
    state = template()
    base = state["clocks"]
    for i in range(n):
        ticket_id = f"20260918-{i % 6:02d}-{i:08d}"
        if i < overdue:
            clocks = shifted_clocks(base, now - timedelta(minutes=10), 300)
        elif i < overdue + firing:
            clocks = shifted_clocks(base, window[0], window[1])
        else:
            clocks = shifted_clocks(base, now + timedelta(hours=2), 5 * 86400)
        due = {}
        if i < overdue + firing:
            for c in clocks:
                for mark, field in zip(MARKS, ("warn_at", "due_at", "escalate_at"), strict=True):
                    due[f"{ticket_id}:{c['kind']}:{mark}:{c['version']}"] = datetime.fromisoformat(c[field])
        value = json.dumps(state | {"ticket_id": ticket_id, "clocks": clocks}).encode()
        yield ticket_id, value, due


async def produce_changelog(
    kafka: KafkaAccess, topic: str, partitions: int, states: Any, compression: str | None
) -> tuple[dict[str, datetime], float, int]:
    """Batches per partition, as Faust's changelog holds them: key = the JSON-encoded ticket id
    (the table's key serializer), value = the raw state, partition = murmur2 of the ticket id
    (the partition of the command that wrote it)."""
    producer = AIOKafkaProducer(
        **kafka.producer_options(
            linger_ms=50, max_batch_size=1 << 20, max_request_size=8 << 20, compression_type=compression
        )
    )
    await producer.start()
    expected: dict[str, datetime] = {}
    batches = [producer.create_batch() for _ in range(partitions)]
    pending: list[asyncio.Future[Any]] = []
    sent, size, started = 0, 0, time.perf_counter()
    try:
        for ticket_id, value, due in states:
            expected.update(due)
            p = partition_for(ticket_id.encode(), partitions)
            key = json.dumps(ticket_id).encode()
            while batches[p].append(key=key, value=value, timestamp=None) is None:
                pending.append(await producer.send_batch(batches[p], topic, partition=p))
                batches[p] = producer.create_batch()
            sent, size = sent + 1, size + len(value)
            if sent % 100_000 == 0:
                await asyncio.gather(*pending)
                pending.clear()
                rate = sent / (time.perf_counter() - started)
                print(f"  changelog: {sent:,} states written ({rate:,.0f}/s)", flush=True)
        for p, batch in enumerate(batches):
            pending.append(await producer.send_batch(batch, topic, partition=p))
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return expected, time.perf_counter() - started, size


def log_steps(log: Path, started: float) -> dict[str, float]:
    """Seconds from the worker's start to the first log line of each recovery step."""
    steps: dict[str, float] = {}
    if not log.exists():
        return steps
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        step = next((s for s in STEPS if s in str(record.get("message", ""))), None)
        if step is not None and step not in steps:
            steps[step] = datetime.fromisoformat(record["time"]).timestamp() - started
    return steps


def peak_rss_mib(pid: int) -> float:
    """VmHWM of the worker and its children (the `cli worker` process runs Faust itself)."""
    pids, peak = [pid], 0.0
    while pids:
        current = pids.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text(encoding="ascii")
            children = Path(f"/proc/{current}/task/{current}/children").read_text(encoding="ascii")
        except OSError:
            continue
        pids += [int(c) for c in children.split()]
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]) / 1024)
    return peak


@dataclass
class Progress:
    """What the watch has seen: each mark's (issued_at, arrival) by command id, when the first
    FlagLimit and the last overdue mark came (seconds from the worker's start), peak memory."""

    started: float
    seen: dict[str, tuple[float, float]] = field(default_factory=dict)
    first_s: float | None = None
    all_overdue_s: float | None = None
    peak: float = 0.0

    def take(self, batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]], now: float) -> None:
        """Note the FlagLimit commands of one fetch (the other commands are not marks)."""
        for messages in batch.values():
            for message in messages:
                command = json.loads(message.value)
                if command.get("type") != "flag_limit":
                    continue
                flag = FlagLimit.model_validate(command)
                if self.first_s is None:
                    self.first_s = message.timestamp / 1000 - self.started
                self.seen.setdefault(flag.command_id, (flag.issued_at.timestamp(), now))


async def watch(
    settings: Settings,
    expected: dict[str, datetime],
    overdue: set[str],
    env: dict[str, str],
    log: Path,
    args: Any,
) -> dict[str, Any]:
    names = TopicNames(settings.topic_prefix)
    consumer = AIOKafkaConsumer(**settings.kafka.client_options(), max_poll_records=5000)
    await consumer.start()
    tps = [TopicPartition(names.commands, p) for p in range(settings.ticket_partitions)]
    consumer.assign(tps)
    await consumer.seek_to_beginning(*tps)
    worker = start_worker(env, log)
    progress = Progress(started=time.time())
    print(f"  worker started (pid {worker.pid}); reading {names.commands}…", flush=True)
    try:
        await follow(consumer, worker, progress, expected, overdue, log, progress.started + args.timeout)
    finally:
        progress.peak = max(progress.peak, peak_rss_mib(worker.pid))
        await consumer.stop()
        stop_process(worker, signal.SIGKILL)
    if progress.first_s is None:
        raise RuntimeError(f"no FlagLimit within {args.timeout} s; see {log}")
    return summary(progress, progress.first_s, expected, overdue) | {
        "worker_peak_rss_mib": progress.peak,
        "log_steps_s": log_steps(log, progress.started),
    }


async def follow(
    consumer: AIOKafkaConsumer,
    worker: subprocess.Popen[bytes],
    progress: Progress,
    expected: dict[str, datetime],
    overdue: set[str],
    log: Path,
    deadline: float,
) -> None:
    """Read the marks until all expected are seen or the deadline passes, saying how far every 5 s."""
    started, last_print = progress.started, 0.0
    while len(progress.seen) < len(expected) and time.time() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"worker exited with {worker.returncode}; see {log}")
        batch = await consumer.getmany(timeout_ms=200)
        now = time.time()
        progress.take(batch, now)
        if progress.all_overdue_s is None and overdue <= progress.seen.keys():
            progress.all_overdue_s = time.time() - started
        progress.peak = max(progress.peak, peak_rss_mib(worker.pid))
        if now - last_print > 5:
            steps = log_steps(log, started)
            print(
                f"  +{now - started:5.0f} s: {len(progress.seen):,}/{len(expected):,} marks sent, "
                f"worker peak RSS {progress.peak:,.0f} MiB, log at: {next(reversed(steps), 'starting')}",
                flush=True,
            )
            last_print = now


def summary(
    progress: Progress, first_s: float, expected: dict[str, datetime], overdue: set[str]
) -> dict[str, Any]:
    """The recovery's timings and the firing delays of the window's marks due once timers fired."""
    seen, firing_at = progress.seen, progress.started + first_s
    after = [
        (seen[c][0] - at.timestamp(), seen[c][1] - at.timestamp())
        for c, at in expected.items()
        if c in seen and c not in overdue and at.timestamp() > firing_at
    ]
    issued, arrived = [d for d, _ in after], [a for _, a in after]
    return {
        "start_to_first_flag_s": first_s,
        "start_to_all_overdue_s": progress.all_overdue_s,
        "overdue_marks": len(overdue),
        "window_marks_sent": len(seen) - len(overdue & seen.keys()),
        "window_marks_due_while_recovering": sum(
            1 for c, at in expected.items() if c not in overdue and at.timestamp() <= firing_at
        ),
        "marks_missing": len(expected) - len(seen),
        "delay_marks": len(after),
        "p50_ms": statistics.median(issued) * 1000 if issued else None,
        "p99_ms": percentile(issued, 0.99) * 1000 if issued else None,
        "max_ms": max(issued) * 1000 if issued else None,
        "arrival_p99_ms": percentile(arrived, 0.99) * 1000 if arrived else None,
    }


def run(args: Any) -> dict[str, Any]:
    random.seed(6)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    state_dir = Path(os.environ.get("SHAOBAO_STATE_DIR", REPO_ROOT / ".state"))
    with running_services(state_dir) as endpoints, tempfile.TemporaryDirectory() as tmp:
        env = isolated_env(endpoints.kafka, endpoints.database_url, Path(tmp), "benchrec")
        settings = Settings.from_env(env)
        kafka, names = settings.kafka, TopicNames(settings.topic_prefix)
        run_coroutine(
            ensure_topics(kafka, all_topic_specs(settings, load_jurisdiction(settings.jurisdiction_file)))
        )
        try:
            now = datetime.now(UTC)
            window = (now + timedelta(seconds=args.window_at), args.window)
            states = tickets_states(args.tickets, args.overdue, args.firing, window, now)
            print(f"timers-recovery: writing {args.tickets:,} ticket states to {names.changelog('tickets')}…")
            expected, produce_s, size = run_coroutine(
                produce_changelog(
                    kafka, names.changelog("tickets"), settings.ticket_partitions, states, args.compression
                )
            )
            print(
                f"  written in {produce_s:.1f} s ({args.tickets / produce_s:,.0f}/s, {size / 2**20:,.0f} MiB)"
            )
            overdue = {c for c, at in expected.items() if at < now}
            log = Path(tmp) / "worker.log"
            results = run_coroutine(watch(settings, expected, overdue, env, log, args))
        finally:
            topics = run_coroutine(list_topic_names(kafka))
            run_coroutine(delete_topics(kafka, {t for t in topics if t.startswith(settings.topic_prefix)}))
    return results | {
        "tickets": args.tickets,
        "compression": args.compression or "none",
        "changelog_mib": size / 2**20,
        "produce_s": produce_s,
        "produce_per_s": args.tickets / produce_s,
        "window_s": args.window,
        "firing_tickets": args.firing,
        "load_average_1min": os.getloadavg()[0],
    }


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} ms"


def section(r: dict[str, Any]) -> str:
    overdue = r["start_to_all_overdue_s"]
    delays = f"{_ms(r['p50_ms'])} / **{_ms(r['p99_ms'])}** / {_ms(r['max_ms'])}"
    rows = [f"| worker log: {name} | {at:.1f} s |" for name, at in r["log_steps_s"].items()] + [
        f"| start → first `FlagLimit` on `tickets.commands` | **{r['start_to_first_flag_s']:.1f} s** |",
        f"| start → all {r['overdue_marks']:,} marks due during the outage sent"
        f" | {'not reached' if overdue is None else f'{overdue:.1f} s'} |",
        f"| window marks ({r['firing_tickets']:,} tickets over {r['window_s']:.0f} s) due while recovering"
        f" | {r['window_marks_due_while_recovering']:,} |",
        f"| firing delay of the {r['delay_marks']:,} marks due after firing resumed p50 / p99 / max"
        f" | {delays} |",
        f"| same, arrival on `tickets.commands` p99 | {_ms(r['arrival_p99_ms'])} |",
        f"| marks never sent before the end | {r['marks_missing']:,} |",
        f"| worker peak resident memory (VmHWM) | **{r['worker_peak_rss_mib']:,.0f} MiB** |",
        f"| machine load average (1 min) at the end, {os.cpu_count()} cores | {r['load_average_1min']:.1f} |",
    ]
    steps = r["log_steps_s"]
    if {STEPS[0], STEPS[1], STEPS[2], STEPS[3]} <= steps.keys():
        reading = steps[STEPS[1]] - steps[STEPS[0]]
        rows.insert(
            len(steps),
            f"| changelog read by Faust's recovery | {reading:.1f} s ({r['tickets'] / reading:,.0f}/s) |",
        )
        rows.insert(
            len(steps) + 1,
            f"| due-index rebuild (`on_recover`) | {steps[STEPS[3]] - steps[STEPS[2]]:.1f} s |",
        )
    table = "\n".join(rows)
    return f"""{BEGIN}
## Timers through the broker (one real worker recovering {r["tickets"]:,} open tickets)
Measured {r["measured_at"]} (`bench/timers_recovery.py`): {r["tickets"]:,} `TicketState` values
written straight into the `tickets` changelog ({r["changelog_mib"]:,.0f} MiB, compression
{r["compression"]}, {r["produce_s"]:.1f} s = {r["produce_per_s"]:,.0f} states/s), then ONE worker
started on them, as after a kill. Times are from the worker process's start.

| measure | value |
|---|---|
{table}
{END}"""


def write(results: dict[str, Any]) -> None:
    write_section(RESULTS, results, section(results), BEGIN, END)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--overdue", type=int, default=10_000, help="tickets whose marks passed while down")
    parser.add_argument("--firing", type=int, default=10_000, help="tickets whose marks fall in the window")
    parser.add_argument("--window-at", type=float, default=None, help="seconds from now to the window")
    parser.add_argument("--window", type=float, default=60.0, help="seconds the firing window lasts")
    parser.add_argument("--compression", choices=("lz4", "gzip", "zstd", "snappy"), default=None)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the marks")
    args = parser.parse_args()
    if args.window_at is None:
        args.window_at = 60 + args.tickets * 500e-6  # writing, recovering, the outage's backlog
    results = run(args)
    results["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    write(results)
    print(f"  {json.dumps({k: v for k, v in results.items() if k != 'log_steps_s'})}")
    print(f"wrote the timers-recovery section of {REPORT} and {RESULTS}")


if __name__ == "__main__":
    main()
