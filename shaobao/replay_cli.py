"""`shaobao replay`: rebuild PostgreSQL from `tickets.events` (see `infra.replay`).

Progress goes to stderr every few seconds; the summary to stdout: records read, events
written, already present, refused, records that are no event, seconds and events/s. Exit
status: 0 done, 2 the topic does not exist, 3 PostgreSQL or Kafka failed midway (running it
again is safe: what was written is not written twice)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Callable
from typing import TextIO

from aiokafka.errors import KafkaError

from agents.ports import StoreUnavailable
from infra.postgres.store import AsyncpgTicketStore
from infra.reference import load_jurisdiction
from infra.replay import BATCH_EVENTS, ReplayProgress, replay_events
from streams.names import TopicNames
from streams.settings import Settings

PROGRESS_EVERY_S = 5.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shaobao replay", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--batch", type=int, default=BATCH_EVENTS, help=f"events per write (default {BATCH_EVENTS})"
    )
    parser.add_argument(
        "--progress-every", type=float, default=PROGRESS_EVERY_S, help="seconds between progress lines"
    )
    return parser


def progress_printer(every_s: float, stream: TextIO) -> Callable[[ReplayProgress], None]:
    """A progress line on `stream` at most every `every_s` seconds."""
    printed = time.monotonic()

    def show(progress: ReplayProgress) -> None:
        nonlocal printed
        if time.monotonic() - printed >= every_s:
            printed = time.monotonic()
            stream.write(f"{progress_line(progress)}\n")
            stream.flush()

    return show


def progress_line(progress: ReplayProgress) -> str:
    share = progress.read / progress.total if progress.total else 1.0
    return (
        f"replay: {progress.read}/{progress.total} records ({share:.0%}), written {progress.written}, "
        f"present {progress.present}, {progress.per_second:.0f} records/s"
    )


def summary(progress: ReplayProgress, topic: str) -> list[str]:
    """The lines of the summary: the counts, then each refused event named (the first ones)."""
    events = progress.written + progress.present + progress.refused
    lines = [
        f"replayed {topic}: read {progress.read} records, {events} events: written {progress.written}, "
        f"already present {progress.present}, refused {progress.refused}; "
        f"{progress.undecodable} records are no ticket event",
        f"{progress.seconds:.1f} s, {events / max(progress.seconds, 1e-9):.0f} events/s",
    ]
    lines += [f"  refused {event_id}: {why}" for event_id, why in progress.refusals]
    if progress.refused > len(progress.refusals):
        lines.append(f"  … and {progress.refused - len(progress.refusals)} more refused")
    return lines


def run_replay(argv: list[str], settings: Settings, out: TextIO | None = None) -> int:
    """Entry point for `shaobao replay`; returns the process exit code."""
    args = build_parser().parse_args(argv)
    out = out or sys.stdout
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    topic = TopicNames(settings.topic_prefix).events
    # The store loads the jurisdiction's units and towns as the worker's does; it re-reads no
    # ticket from the log: a gap in the log is a broken writer's, refused.
    store = AsyncpgTicketStore(settings.database_url, load_jurisdiction(settings.jurisdiction_file))
    show = progress_printer(args.progress_every, sys.stderr)

    async def replay() -> ReplayProgress:
        try:
            return await replay_events(settings.kafka, topic, store, args.batch, show)
        finally:
            await store.close()

    try:
        progress = asyncio.run(replay())
    except LookupError as exc:
        print(f"shaobao replay: {exc}", file=sys.stderr)
        return 2
    except (StoreUnavailable, KafkaError, TimeoutError) as exc:
        print(f"shaobao replay: {exc!r}; running it again is safe", file=sys.stderr)
        return 3
    for line in summary(progress, topic):
        print(line, file=out)
    return 0
