"""The chaos audit's I/O: topics read whole with their record timestamps, the store's fates
while the pipeline drains, and `shaobao verify`.

Reading uses a consumer with no group, so it moves no one's offsets (as `infra.kafka.topic_read`,
which drops the timestamps the stall and latency need).
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from bench.chaos.audit_fates import (
    Position,
    command_position,
    duplicate_position,
    source_position,
    ticket_position,
)
from bench.chaos.audit_log import LogRecord, Logs
from schemas.dead_letters import DeadLetter
from streams.kafka_access import KafkaAccess
from streams.names import TopicNames
from streams.settings import REPO_ROOT

READ_IDLE_S = 120.0  # nothing fetched for this long while records are left: the broker is gone
FETCH_MS = 500
POLL_S = 2.0
REPORT_S = 5.0
VERIFY_TIMEOUT_S = 900.0
# `shaobao verify`'s last line (shaobao/report_cli.py): "<n> differences between <topic> and the store".
VERIFIED = re.compile(r"^(\d+) differences between ", re.MULTILINE)
# What a poll meets while the stack recovers (PostgreSQL restarting, a broker moving): try again.
UNAVAILABLE = (OSError, TimeoutError, KafkaError, asyncpg.PostgresError, asyncpg.InterfaceError)


class VerifyUnreadable(RuntimeError):
    """`shaobao verify` did not say how many differences it found."""


@asynccontextmanager
async def _consumer(kafka: KafkaAccess) -> AsyncIterator[AIOKafkaConsumer]:
    consumer = AIOKafkaConsumer(
        **kafka.client_options(),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 * 1024 * 1024,  # a rejection keeps up to ~1 MB
        fetch_max_bytes=16 * 1024 * 1024,
    )
    await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()


async def _partitions(
    consumer: AIOKafkaConsumer, topics: Sequence[str], timeout_s: float = 30.0
) -> list[TopicPartition]:
    """Subscribed without a group, the consumer is given every partition of `topics`."""
    known = await consumer.topics()
    missing = [topic for topic in topics if topic not in known]
    if missing:
        raise LookupError(f"no such topics: {', '.join(missing)}")
    consumer.subscribe(list(topics))
    deadline = time.monotonic() + timeout_s
    while {tp.topic for tp in consumer.assignment()} != set(topics):
        if time.monotonic() > deadline:
            raise TimeoutError(f"not every partition of {', '.join(topics)} assigned in {timeout_s:.0f} s")
        await asyncio.sleep(0.05)
    return sorted(consumer.assignment())


async def read_topics(
    kafka: KafkaAccess, topics: Sequence[str], idle_s: float = READ_IDLE_S
) -> tuple[dict[str, list[LogRecord]], dict[str, int]]:
    """Every record of `topics` up to the end offsets seen at the start, oldest first within a
    partition; and each topic's partition count."""
    found: dict[str, list[LogRecord]] = {topic: [] for topic in topics}
    async with _consumer(kafka) as consumer:
        partitions = await _partitions(consumer, topics)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        idle_since = time.monotonic()
        while left := [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            if time.monotonic() - idle_since > idle_s:
                raise TimeoutError(
                    f"{len(left)} partitions not read to their end: nothing for {idle_s:.0f} s"
                )
            fetched = await consumer.getmany(*left, timeout_ms=FETCH_MS)
            for tp, messages in fetched.items():
                kept = [m for m in messages if m.offset < ends[tp]]
                found[tp.topic] += [
                    LogRecord(m.partition, m.offset, m.key, m.value, _at(m.timestamp)) for m in kept
                ]
                idle_since = time.monotonic() if kept else idle_since
    return found, dict(Counter(tp.topic for tp in partitions))


def _at(timestamp_ms: int) -> datetime:
    return datetime.fromtimestamp(timestamp_ms / 1000, UTC)


async def read_logs(kafka: KafkaAccess, names: TopicNames, units: Sequence[str]) -> Logs:
    """The intake, the event log, rejections, dead letters and every unit's orders, as they are now."""
    read_at = datetime.now(UTC)
    orders = {unit: names.unit_orders(unit) for unit in units}
    topics = [names.intake, names.events, names.rejected, names.dead_letters, *orders.values()]
    found, partitions = await read_topics(kafka, topics)
    return Logs(
        intake_topic=names.intake,
        commands_topic=names.commands,
        intake_partitions=partitions[names.intake],
        intake=found[names.intake],
        events=found[names.events],
        rejected=found[names.rejected],
        dead_letters=found[names.dead_letters],
        orders={unit: found[topic] for unit, topic in orders.items()},
        read_at=read_at,
    )


@dataclass(frozen=True)
class Drain:
    intake: int  # records on the intake topic
    unfated: int  # of them, with no fate in the store yet
    rows: int  # the store's events, rejections and dead letters
    events_end: dict[int, int] = field(default_factory=dict)  # `tickets.events`' end offsets now
    events_done: dict[int, int] = field(default_factory=dict)  # the worker group's commits on it

    def caught_up_with(self, before: Drain) -> bool:
        """Every event logged by the time of `before` is handled by every agent that reads the
        events (the sink, the orders, the indexer): the group's commit is past it. Marks go on
        falling due after the load stops, so the store never holds still; this does."""
        return all(self.events_done.get(p, 0) >= end for p, end in before.events_end.items())


async def store_fates(conn: asyncpg.Connection, names: TopicNames) -> set[Position]:
    """The intake positions the store holds a fate for, by the keys of `audit_fates`."""
    intake_topic = names.intake
    found: set[Position | None] = set()
    found |= {ticket_position(r["ticket_id"]) for r in await conn.fetch("SELECT ticket_id FROM tickets")}
    duplicates = await conn.fetch(
        "SELECT payload->>'command_id' AS command_id FROM ticket_events WHERE type = 'duplicate_received'"
    )
    found |= {duplicate_position(r["command_id"]) for r in duplicates}
    rejections = await conn.fetch("SELECT rejection_id FROM appeal_rejections")
    found |= {source_position(r["rejection_id"], intake_topic) for r in rejections}
    letters = await conn.fetch(
        "SELECT source_partition, source_offset FROM dead_letters WHERE source_topic = $1", intake_topic
    )
    found |= {(r["source_partition"], r["source_offset"]) for r in letters}
    commands = await conn.fetch("SELECT letter FROM dead_letters WHERE source_topic = $1", names.commands)
    found |= {command_position(DeadLetter.model_validate_json(r["letter"])) for r in commands}
    return {position for position in found if position is not None}


async def drain_state(
    consumer: AIOKafkaConsumer,
    admin: AIOKafkaAdminClient,
    partitions: Sequence[TopicPartition],
    names: TopicNames,
    database_url: str,
) -> Drain:
    starts = await consumer.beginning_offsets(partitions)
    ends = await consumer.end_offsets(partitions)
    events = [TopicPartition(names.events, tp.partition) for tp in partitions]
    events_end = {tp.partition: end for tp, end in (await consumer.end_offsets(events)).items()}
    committed = await admin.list_consumer_group_offsets(names.app_id, partitions=events)
    events_done = {tp.partition: at.offset for tp, at in committed.items() if at is not None}
    # No transactions on the intake topic: every offset below the end is a record.
    positions = {(tp.partition, offset) for tp in partitions for offset in range(starts[tp], ends[tp])}
    conn = await asyncpg.connect(database_url, timeout=5)
    try:
        fated = await store_fates(conn, names)
        rows = await conn.fetchval(
            "SELECT (SELECT count(*) FROM ticket_events) + (SELECT count(*) FROM appeal_rejections)"
            " + (SELECT count(*) FROM dead_letters)"
        )
    finally:
        await conn.close()
    return Drain(len(positions), len(positions - fated), int(rows), events_end, events_done)


async def wait_until_drained(
    kafka: KafkaAccess, names: TopicNames, database_url: str, settle_s: float, poll_s: float = POLL_S
) -> bool:
    """Until every intake record has a fate in the store and every agent has handled every
    event logged by the poll before (`Drain.caught_up_with`), at most `settle_s`; prints
    progress every few seconds. True once drained."""
    started = time.monotonic()
    reported = -REPORT_S
    before: Drain | None = None
    admin = AIOKafkaAdminClient(**kafka.client_options(), request_timeout_ms=10000)
    await admin.start()
    try:
        async with _consumer(kafka) as consumer:
            partitions = await _partitions(consumer, [names.intake])
            consumer.pause(*partitions)  # only its offsets are asked for: fetch nothing
            while True:
                elapsed = time.monotonic() - started
                try:
                    state: Drain | str = await drain_state(consumer, admin, partitions, names, database_url)
                except UNAVAILABLE as exc:
                    state = f"unavailable ({type(exc).__name__}: {str(exc)[:120]})"
                drained = (
                    isinstance(state, Drain)
                    and state.unfated == 0
                    and before is not None
                    and state.caught_up_with(before)
                )
                if drained or elapsed - reported >= REPORT_S or elapsed >= settle_s:
                    print(f"audit: draining, {elapsed:.0f} s: {_shown(state, before)}", flush=True)
                    reported = elapsed
                if drained or elapsed >= settle_s:
                    return drained
                before = state if isinstance(state, Drain) else None
                await asyncio.sleep(poll_s)
    finally:
        await admin.close()


def _shown(state: Drain | str, before: Drain | None) -> str:
    if isinstance(state, str):
        return state
    moved = f" ({state.rows - before.rows:+d})" if before is not None else ""
    unfated = f"{state.unfated} of {state.intake} intake records without a fate in the store"
    behind = sum(max(0, end - state.events_done.get(p, 0)) for p, end in state.events_end.items())
    return f"{unfated}, store rows {state.rows}{moved}, {behind} events not yet handled by every agent"


async def run_verify(env: dict[str, str], timeout_s: float = VERIFY_TIMEOUT_S) -> int:
    """`shaobao verify` on the pipeline's topics and database: how many differences it found."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "shaobao.cli",
        "verify",
        env=env,
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout_s)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise VerifyUnreadable(f"shaobao verify did not finish in {timeout_s:.0f} s") from None
    return differences_in(process.returncode, out.decode(errors="replace"), err.decode(errors="replace"))


def differences_in(code: int | None, out: str, err: str) -> int:
    """The count `shaobao verify` printed last; it must agree with its exit code (1: some)."""
    found = VERIFIED.findall(out)
    count = int(found[-1]) if found else None
    if count is None or code != (1 if count else 0):
        tail = (out + err).strip()[-800:]
        raise VerifyUnreadable(f"shaobao verify exited {code} without a count of differences: {tail}")
    return count
