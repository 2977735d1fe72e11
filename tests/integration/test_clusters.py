"""多人反映 and 重复来电 on the real stack: three citizens about one blocked drain end as one
ticket whose three citizens are each called back by the simulated hotline, and the first
caller calling again is marked on it as a repeat call."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from functools import partial
from typing import Any

import asyncpg
import pytest

from infra.local.services import ServiceEndpoints
from shaobao.launch import Pipeline, isolated_pipeline
from shaobao.simulation.hotline import CallbackSimulator
from shaobao.simulation.units import UnitSimulator
from tests.integration.kafkatools import appeal, encoded, eventually, produce, read_all, ticket_for

pytestmark = pytest.mark.integration
SAME_DRAIN = (
    (
        "来电人反映：白马桥街道凤凰城小区门口下水道堵塞，污水外溢到路面，臭味很大，请相关部门疏通。",
        "凤凰城小区",
    ),
    ("市民来电反映：凤凰城小区大门口的下水道堵了，污水溢到马路上，很臭，请尽快疏通。", "凤凰城小区"),
    ("来电人称：白马桥街道凤凰城小区门口下水道又堵塞了，污水流到路面，希望尽快处理。", ""),
)
CALLERS = (("向先生", "18939595216"), ("李女士", "13800001111"), ("王先生", "13900002222"))
AGAIN = "来电人再次反映：凤凰城小区门口下水道堵塞还没有疏通，污水外溢，请尽快处理。"


@pytest.fixture(scope="module")
def merging(endpoints: ServiceEndpoints, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """A pipeline of its own with automatic merging on (the shared one has it off)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SHAOBAO_AUTO_MERGE", "1")  # read by the worker process this starts
        with isolated_pipeline(
            endpoints.kafka,
            endpoints.database_url,
            tmp_path_factory.mktemp("clusters"),
            "cl",
        ) as pipeline:
            yield pipeline


@pytest.fixture
async def conn(merging: Pipeline) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(merging.settings.database_url)
    try:
        yield connection
    finally:
        await connection.close()


async def closed_into(conn: asyncpg.Connection, source_id: str) -> asyncpg.Record | None:
    row = await ticket_for(conn, source_id)
    return row if row is not None and row["status"] == "closed" else None


async def state_of(conn: asyncpg.Connection, ticket_id: str) -> dict[str, Any]:
    return dict(json.loads(await conn.fetchval("SELECT state FROM tickets WHERE ticket_id = $1", ticket_id)))


async def test_three_citizens_about_one_drain_are_one_ticket_each_called_back_and_a_caller_again_is_marked(
    merging: Pipeline, conn: asyncpg.Connection
) -> None:
    kafka = merging.settings.kafka
    records = [
        appeal(text=text, address=address, caller={"name": name, "phone": phone})
        for (text, address), (name, phone) in zip(SAME_DRAIN, CALLERS, strict=True)
    ]
    await produce(kafka, merging.names.intake, [encoded(records[0])])
    first = await eventually(lambda: ticket_for(conn, records[0]["source_id"]))
    target = str(first["ticket_id"])

    async def indexed() -> bool:
        signals = await read_all(kafka, merging.names.clusters, idle_s=0.2)
        return any(json.loads(value)["ticket_id"] == target for _, value in signals)

    await eventually(indexed)
    await asyncio.sleep(1.0)  # the detecting agent reads the signal a moment later
    await produce(kafka, merging.names.intake, [encoded(r) for r in records[1:]])
    merged = [await eventually(partial(closed_into, conn, r["source_id"])) for r in records[1:]]
    assert [(m["resolution"], m["merged_into"]) for m in merged] == [("merged", target)] * 2
    state = await state_of(conn, target)
    assert sorted(c["ticket_id"] for c in state["citizens"]) == sorted(m["ticket_id"] for m in merged)
    again = appeal(text=AGAIN, address="凤凰城小区", caller={"name": "向先生", "phone": "189 3959 5216"})
    await produce(kafka, merging.names.intake, [encoded(again)])
    repeat = await eventually(lambda: closed_into(conn, again["source_id"]))
    assert (repeat["resolution"], repeat["merged_into"]) == ("merged", target)
    state = await state_of(conn, target)
    assert (state["status"], state["repeat_calls"], len(state["citizens"])) == (
        "dispatched",
        [repeat["ticket_id"]],
        2,
    )
    events = await conn.fetch(
        "SELECT type, payload FROM ticket_events WHERE ticket_id = $1 ORDER BY version", target
    )
    # The third appeal on one ticket also blows the town's whistle (domain.time_limits.whistles' rule).
    whistles = [json.loads(e["payload"]) for e in events if e["type"] == "whistle_blown"]
    assert [w["trigger"] for w in whistles] == ["cluster"]
    events = [e for e in events if e["type"] != "whistle_blown"]
    assert [e["type"] for e in events] == [
        "ticket_received",
        "ticket_dispatched",
        "appeal_merged",
        "appeal_merged",
        "repeat_call_recorded",
    ]
    found = [json.loads(e["payload"]) for e in events[2:]]
    assert all(f["score"] >= 0.35 and f["operator"] == "auto" for f in found)

    stop = asyncio.Event()
    running = [
        asyncio.create_task(UnitSimulator(merging.settings, speed=60.0, seed=3).run(stop)),
        asyncio.create_task(CallbackSimulator(merging.settings, speed=60.0, seed=3).run(stop)),
    ]
    try:

        async def ended() -> asyncpg.Record | None:
            row = await conn.fetchrow("SELECT * FROM tickets WHERE ticket_id = $1", target)
            return row if row is not None and row["status"] == "closed" else None

        closed = await eventually(ended, timeout_s=120)
    finally:
        stop.set()
        await asyncio.gather(*running)
    callbacks = [
        json.loads(row["payload"])
        for row in await conn.fetch(
            "SELECT payload FROM ticket_events WHERE ticket_id = $1 AND type = 'callback_recorded'", target
        )
    ]
    finals = Counter(c["citizen"] for c in callbacks if c["final"])
    citizens = {f"phone:{r['source_id']}" for r in records}
    assert set(finals) == citizens
    assert set(finals.values()) == {1 + closed["rework_count"]}  # each citizen, once per round
    assert closed["resolution"] in ("callback", "unreachable", "unreasonable")
