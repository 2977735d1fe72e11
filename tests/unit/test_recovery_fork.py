"""The forked ticket of the chaos run (two different version-4 events): a worker paused with a
batch in hand writes its table state after the new owner's, and recovery took the late write.

The interleaving, replayed with the real batch boundary (`Boundary.handle_each`, `Staged`)
and the real Faust table the recovering worker fills (`streams.versioned_recovery`)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from faust.events import Event
from faust.types import Message

from agents.boundary import Boundary, Record
from agents.outbox import Outbox, Staged
from streams.app import create_streams
from streams.settings import Settings
from streams.versioned_recovery import json_version, keep_newest

KEY = "20261208-00-000025"
CHANGELOG = "w.shaobao-tickets-changelog"


def state(version: int, by: str = "") -> bytes:
    return json.dumps({"ticket_id": KEY, "version": version, "by": by}).encode()


class Clock:
    def now(self) -> datetime:
        return datetime(2026, 12, 8, tzinfo=UTC)


class LoggedTable(dict[str, bytes]):
    """A worker's table: each write also goes to the one changelog both workers share."""

    def __init__(self, changelog: list[tuple[str, bytes | None]]) -> None:
        super().__init__()
        self._changelog = changelog

    def __setitem__(self, key: str, value: bytes) -> None:
        super().__setitem__(key, value)
        self._changelog.append((key, value))


class Events:
    """`tickets.events` as a topic an outbox forwards to; acks wait while `running` is clear."""

    def __init__(self, running: asyncio.Event) -> None:
        self._running = running

    async def produce(self, key: bytes | None, value: bytes, partition: int | None = None) -> Any:
        async def ack() -> None:
            await self._running.wait()

        return asyncio.ensure_future(ack())


def worker(changelog: list[tuple[str, bytes | None]], running: asyncio.Event, name: str) -> Any:
    table = Staged(LoggedTable(changelog))
    events = Events(running)

    async def step(record: Record, outbox: Outbox) -> None:  # the ticket agent, in short
        stored = table.get(KEY)
        version = json_version(stored) if stored is not None else 0
        await outbox.forward(events, KEY.encode(), b"event")  # type: ignore[arg-type]
        table[KEY] = state((version or 0) + 1, name)

    async def outlet(letter: Any) -> None:
        raise AssertionError(f"no dead letter expected: {letter}")

    boundary = Boundary("handle_ticket_commands", outlet, Clock())

    async def take(*offsets: int) -> None:
        records = [Record("w.tickets.commands", 3, o, KEY.encode(), b"{}") for o in offsets]
        await boundary.handle_each(records, step, [table])

    return table, take


def bare_table() -> Any:
    """A Faust table as `streams.app` makes them, without the newest-only recovery."""
    app = create_streams(Settings(topic_prefix="w.")).app
    return app.Table("bare", default=None, key_type=str, value_type=bytes)


def replay(table: Any, changelog: list[tuple[str, bytes | None]], batch: int = 1000) -> None:
    """Faust's recovery of one changelog partition: its records in log order, in batches."""
    events = [
        Event(table.app, key, value, {}, Message(CHANGELOG, 3, offset, 0.0, 0, {}, key.encode(), value, None))
        for offset, (key, value) in enumerate(changelog)
    ]
    for start in range(0, len(events), batch):
        table.apply_changelog_batch(events[start : start + batch])


async def paused_worker_writes_after_the_new_owner() -> list[tuple[str, bytes | None]]:
    changelog: list[tuple[str, bytes | None]] = [(KEY, state(1)), (KEY, state(2))]
    w1_running, w2_running = asyncio.Event(), asyncio.Event()
    w2_running.set()
    w1_table, w1_take = worker(changelog, w1_running, "w1")
    dict.__setitem__(w1_table._table, KEY, state(2))  # noqa: SLF001 - W1 owned it up to v2
    # W1 takes command 10 (-> v3); its outputs are on their way when it is SIGSTOPped.
    paused = asyncio.ensure_future(w1_take(10))
    await asyncio.sleep(0.01)
    assert not paused.done()
    # Its session lapses: W2 recovers v2 from the changelog, takes command 10 again (v3,
    # the same event id) and command 11 (v4, `order_signed`), and commits both; the batch
    # writes its last state of the ticket.
    w2_table, w2_take = worker(changelog, w2_running, "w2")
    dict.__setitem__(w2_table._table, KEY, changelog[-1][1])  # noqa: SLF001 - its recovery
    await w2_take(10, 11)
    assert json_version(changelog[-1][1]) == 4
    # SIGCONT: W1's batch resumes, its outputs are acknowledged and its table written.
    w1_running.set()
    await paused
    return changelog


@pytest.mark.asyncio
async def test_a_paused_worker_writes_its_old_state_after_the_new_owners_newer_one() -> None:
    changelog = await paused_worker_writes_after_the_new_owner()
    assert [json_version(value) for _, value in changelog] == [1, 2, 4, 3]
    assert json.loads(changelog[-1][1] or b"")["by"] == "w1"


@pytest.mark.asyncio
async def test_faust_recovery_alone_ends_on_the_late_write() -> None:
    changelog = await paused_worker_writes_after_the_new_owner()
    tickets = bare_table()
    replay(tickets, changelog)
    assert json_version(tickets.data[KEY]) == 3  # the fork: v4 is on tickets.events


@pytest.mark.asyncio
@pytest.mark.parametrize("batch", [1, 2, 1000])
async def test_recovery_keeps_the_newest_version_whatever_its_batches(batch: int) -> None:
    changelog = await paused_worker_writes_after_the_new_owner()
    tickets = keep_newest(bare_table())
    replay(tickets, changelog, batch)
    assert json_version(tickets.data[KEY]) == 4


def test_a_stale_value_held_from_before_is_replaced_by_the_logs_newer_one() -> None:
    tickets = keep_newest(keep_newest(bare_table()))  # wrapped once only
    replay(tickets, [(KEY, state(3))])  # held from an earlier ownership
    replay(tickets, [(KEY, state(2)), (KEY, state(4)), (KEY, state(3))])
    assert json_version(tickets.data[KEY]) == 4


def test_the_same_version_again_and_unreadable_values_are_applied_as_faust_would() -> None:
    tickets = keep_newest(bare_table())
    replay(tickets, [(KEY, state(4, "a")), (KEY, state(4, "b"))])
    assert json.loads(tickets.data[KEY])["by"] == "b"
    replay(tickets, [(KEY, b"not json")])
    assert tickets.data[KEY] == b"not json"
    replay(tickets, [(KEY, state(1))])
    assert json_version(tickets.data[KEY]) == 1


@pytest.mark.parametrize("name", ["tickets", "order_views"])
def test_the_worker_s_versioned_tables_keep_the_newest(name: str) -> None:
    table = getattr(create_streams(Settings(topic_prefix="w.")), name)
    replay(table, [(KEY, state(4)), (KEY, state(3))])
    assert json_version(table.data[KEY]) == 4
