"""`make chaos` (`python -m bench.chaos`): a fault schedule against a live stack under steady load.

Long (the default): three brokers, ten minutes of load with a fault about every 25 s, on
services of its own (state dir `.state/chaos`, ports 29092+ and 29432, never `make run`'s);
writes bench/chaos.json and RELIABILITY.md's table (with `--out`, only that file).
`--short`: a few faults on one broker in under three minutes (as `make test` runs it).
Exits 1 when anything was lost, doubled or missed, or dispatching stalled longer than 30 s.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from bench.chaos import report
from bench.chaos.run import ChaosResult, run_chaos
from bench.chaos.stack import Services, say
from infra.local.kafka import LocalKafkaCluster, kafka_node_ids
from infra.local.services import (
    DATABASE_ENV,
    KAFKA_ENV,
    LocalPorts,
    local_kafka,
    local_postgres,
    running_services,
)
from streams.settings import REPO_ROOT

STATE_DIR = REPO_ROOT / ".state" / "chaos"
PORTS = LocalPorts(kafka=29092, kafka_controller=29093, postgres=29432)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument("--short", action="store_true", help="a few faults on one broker, under 3 minutes")
    parser.add_argument("--minutes", type=float, default=10.0, help="minutes of load (long mode)")
    parser.add_argument("--rate", type=float, default=5.0, help="appeals per second from the simulator")
    parser.add_argument("--brokers", type=int, default=None, help="default: 3, or 1 with --short")
    parser.add_argument("--seed", type=int, default=None, help="the schedule's seed (default: random)")
    parser.add_argument("--out", type=Path, default=None, help=f"default: {report.RESULTS} (long mode)")
    args = parser.parse_args(argv)
    # The runner's own clients meet the brokers it kills: their connection errors are the fault.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    brokers = args.brokers or (1 if args.short else 3)
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    workdir = STATE_DIR / "runs" / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    try:
        with own_services(brokers) as services:
            run = _cancelled_on_sigterm(services, workdir, args.short, args.minutes, args.rate, seed)
            result = asyncio.run(run)
    except (KeyboardInterrupt, asyncio.CancelledError):
        say(f"stopped before the end; every process stopped (logs in {workdir / 'logs'})")
        return 130
    return publish(result, args.out or (workdir / "chaos.json" if args.short else report.RESULTS))


@contextmanager
def own_services(brokers: int) -> Iterator[Services]:
    """The chaos state dir's Kafka and PostgreSQL, started when not running; the ones the run
    starts itself are the ones its faults may kill and restart."""
    external = {name for name in (KAFKA_ENV, DATABASE_ENV) if os.environ.get(name)}
    kafka = local_kafka(STATE_DIR, PORTS, brokers)
    postgres = local_postgres(STATE_DIR, PORTS)
    kafka_ours = KAFKA_ENV not in external and kafka.pid() is None
    postgres_ours = DATABASE_ENV not in external and postgres.pid() is None
    with running_services(STATE_DIR, PORTS, brokers) as endpoints:
        found = len(kafka_node_ids(endpoints.kafka)) if KAFKA_ENV in external else brokers
        yield Services(
            kafka=endpoints.kafka,
            database_url=endpoints.database_url,
            brokers=found,
            cluster=kafka if kafka_ours and isinstance(kafka, LocalKafkaCluster) else None,
            postgres=postgres if postgres_ours else None,
        )


async def _cancelled_on_sigterm(
    services: Services, workdir: Path, short: bool, minutes: float, rate: float, seed: int
) -> ChaosResult:
    """Run, stopping everything cleanly on SIGTERM as on Ctrl-C (asyncio.run cancels on SIGINT)."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await run_chaos(services, workdir, short=short, minutes=minutes, rate=rate, seed=seed)


def publish(result: ChaosResult, out: Path) -> int:
    described, at_commit = report.machine(), report.commit()
    report.write_results({**result.as_dict(), "machine": described, "commit": at_commit}, out)
    say(f"wrote {out}")
    if out.resolve() == report.RESULTS.resolve():  # the published run: its table goes with it
        block = report.table(result, described, at_commit)
        if report.update_reliability(block):
            say(f"updated {report.RELIABILITY}")
        else:
            say(f"{report.RELIABILITY} has no {report.BEGIN} … {report.END} markers; the table:\n{block}")
    failures = result.failures()
    for failure in failures:
        say(f"FAILED: {failure}")
    say("passed: nothing lost, doubled or missed" if not failures else f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
