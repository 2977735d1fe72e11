"""`tickets.events` is the source of truth: replaying it from the start into a fresh database
rebuilds exactly the current state of every ticket of the session, and replaying it again
changes nothing; `shaobao replay` does it from the command line, into an empty store or one
that holds part of the log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
import pytest

from domain.jurisdiction import Jurisdiction
from domain.ticket import folded_tickets
from infra.kafka.topics import TopicSpec, ensure_topics
from infra.local.services import ServiceEndpoints
from infra.postgres.store import AsyncpgTicketStore
from infra.verify import decode_events
from schemas.commands import CompleteTicket, RecordCallback, SignOrder
from schemas.events import TicketEvent
from shaobao.launch import create_database, isolated_env, run_coroutine
from streams.names import TopicNames
from streams.settings import Settings
from tests.integration.clitools import shaobao
from tests.integration.conftest import Stack
from tests.integration.kafkatools import eventually, produce, read_all
from tests.integration.lifecycletools import act, control, open_ticket, row_at
from tests.unit.lifecycle_desk import MONDAY, Desk, calendar_for, hours, rules_with_limits

pytestmark = pytest.mark.integration
COLUMNS = (
    "ticket_id, version, status, channel, appeal_type, category, urgency, town, lead_unit, co_units,"
    " received_at, updated_at, state, signed_at, completed_at, closed_at, resolution, satisfaction,"
    " rework_count, merged_into"
)


async def tickets_table(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    return [dict(row) for row in await conn.fetch(f"SELECT {COLUMNS} FROM tickets ORDER BY ticket_id")]  # noqa: S608


async def test_replaying_the_event_log_into_a_fresh_table_rebuilds_every_ticket_exactly(
    stack: Stack, db: asyncpg.Connection
) -> None:
    # A ticket that goes a long way (return, redispatch, rework), besides the session's others.
    ticket = await open_ticket(stack, db)
    await act(stack, "zjj", ticket, "return", suggested_unit="cgj")
    await row_at(db, ticket, 3)
    await control(stack, ticket, "redispatch", reason="改派")
    await row_at(db, ticket, 4)
    await act(stack, "cgj", ticket, "sign")
    await act(stack, "cgj", ticket, "complete")
    await row_at(db, ticket, 6)
    await control(stack, ticket, "callback", outcome="dissatisfied")
    await control(stack, ticket, "rework", reason="仍未解决")
    assert (await row_at(db, ticket, 8))["rework_count"] == 1

    kafka = stack.settings.kafka
    # The log as the store must hold it: other tests of the session write broken records to it too.
    logged, _ = decode_events([value for _, value in await read_all(kafka, stack.names.events)])
    events: list[TicketEvent] = folded_tickets(logged)[1]
    distinct = {event.event_id for event in events}

    async def projected() -> bool:
        return bool(await db.fetchval("SELECT count(*) FROM ticket_events") == len(distinct))

    await eventually(projected)  # the live projection has caught up with the log
    live = await tickets_table(db)
    assert any(row["ticket_id"] == ticket for row in live)

    fresh_url = await create_database(stack.settings.database_url, f"replay_{ticket.replace('-', '_')}")
    store = AsyncpgTicketStore(fresh_url)
    try:
        assert await store.record(events) == len(distinct) == len(events)
        assert await store.record(events) == 0  # the same log again: nothing new
        fresh = await asyncpg.connect(fresh_url)
        try:
            rebuilt = await tickets_table(fresh)
        finally:
            await fresh.close()
    finally:
        await store.close()
    assert rebuilt == live


# `shaobao replay` ----------------------------------------------------------------------------


def lives(jurisdiction: Jurisdiction, numbers: range) -> list[TicketEvent]:
    """Tickets through the real decisions, each as far as its number says: dispatched, signed,
    completed, or called back and closed (with the county's time limits on the calendar)."""
    rules = rules_with_limits(jurisdiction, calendar_for(jurisdiction))
    events: list[TicketEvent] = []
    for n in numbers:
        desk = Desk(rules, f"20260302-{n % 6:02d}-{n:06d}")
        if n % 4 >= 1:
            desk.unit(SignOrder, MONDAY + hours(1))
        if n % 4 >= 2:
            desk.unit(CompleteTicket, MONDAY + hours(5), reply="已清运，现场已清洗")
        if n % 4 >= 3:
            desk.control(RecordCallback, MONDAY + hours(30), outcome="satisfied")
        events += desk.events
    return events


def records(events: list[TicketEvent]) -> list[tuple[bytes | None, bytes]]:
    return [(e.ticket_id.encode(), e.model_dump_json().encode()) for e in events]


async def replay_into(log: Stack) -> str:
    ran = await shaobao(log, "replay", "--batch", "7")  # small batches: many of them, tickets split
    assert ran.code == 0, ran.out + ran.err
    return ran.out


async def stored(database_url: str) -> dict[str, int]:
    conn = await asyncpg.connect(database_url)
    try:
        tables = ("ticket_events", "tickets", "ticket_callbacks")
        return {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in tables}  # noqa: S608
    finally:
        await conn.close()


@pytest.fixture
def log_only(endpoints: ServiceEndpoints, tmp_path: Path) -> Stack:
    """A `tickets.events` topic and an empty database of their own, and no worker."""
    env = isolated_env(endpoints.kafka, endpoints.database_url, tmp_path, "replay")
    settings = Settings.from_env(env)
    names = TopicNames(settings.topic_prefix)
    run_coroutine(ensure_topics(settings.kafka, [TopicSpec(names.events, 6, {"retention.ms": "-1"})]))
    return Stack(settings=settings, names=names, env=env, worker_log=tmp_path / "no-worker.log")


async def test_shaobao_replay_rebuilds_an_empty_store_then_writes_only_what_it_lacks(
    log_only: Stack, jurisdiction: Jurisdiction
) -> None:
    kafka, topic, url = log_only.settings.kafka, log_only.names.events, log_only.settings.database_url
    first = lives(jurisdiction, range(12))
    broken_writer = first[-1].model_copy(update={"version": 9, "event_id": f"{first[-1].ticket_id}:9"})
    retried = first[3]  # a producer's retry: the same event twice on the log
    await produce(kafka, topic, [*records([*first, retried, broken_writer]), (b"x", b"\xff not an event")])

    out = await replay_into(log_only)
    assert (
        f"replayed {topic}: read {len(first) + 3} records, {len(first) + 2} events: written {len(first)}, "
        "already present 1, refused 1; 1 records are no ticket event"
    ) in out
    assert f"refused {broken_writer.event_id}: " in out
    callbacks = sum(e.type == "callback_recorded" for e in first)
    assert callbacks == 3 and await stored(url) == {
        "ticket_events": len(first),
        "tickets": 12,
        "ticket_callbacks": callbacks,
    }
    verified = await shaobao(log_only, "verify")
    assert verified.code == 0 and f"0 differences between {topic} and the store" in verified.out, verified.out

    # The store falls behind: the log goes on, and one ticket is lost (a restore from a backup).
    later = lives(jurisdiction, range(12, 20))
    await produce(kafka, topic, records(later))
    lost = first[0].ticket_id
    conn = await asyncpg.connect(url)
    try:
        for table in ("ticket_callbacks", "whistle_units", "ticket_events", "tickets"):
            await conn.execute(f"DELETE FROM {table} WHERE ticket_id = $1", lost)  # noqa: S608
    finally:
        await conn.close()
    rewritten = len([e for e in first if e.ticket_id == lost])
    out = await replay_into(log_only)
    assert (
        f"written {len(later) + rewritten}, already present {len(first) - rewritten + 1}, refused 1;" in out
    )
    assert (await stored(url))["tickets"] == 20
    verified = await shaobao(log_only, "verify")
    assert verified.code == 0 and f"0 differences between {topic} and the store" in verified.out, verified.out

    # Once more: nothing new.
    out = await replay_into(log_only)
    assert f"written 0, already present {len(first) + len(later) + 1}, refused 1;" in out
    assert (await stored(url))["ticket_events"] == len(first) + len(later)
