"""The thin pipeline end to end, through the real broker into the real database."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import pytest

from tests.integration.conftest import Stack
from tests.integration.kafkatools import appeal, encoded, eventually, produce, read_all, ticket_for
from tests.integration.lifecycletools import routed_ticket

pytestmark = pytest.mark.integration


async def orders_for(stack: Stack, unit: str, ticket_id: str) -> list[dict[str, object]]:
    records = await read_all(stack.settings.kafka, stack.names.unit_orders(unit))
    return [order for _, value in records if (order := json.loads(value))["ticket_id"] == ticket_id]


async def test_an_appeal_becomes_exactly_one_order_and_one_ticket_row(
    stack: Stack, db: asyncpg.Connection
) -> None:
    record = appeal()
    await produce(stack.settings.kafka, stack.names.intake, [encoded(record)])

    # Routed, not merely received: the sink may write `ticket_received` and the dispatch apart.
    row = await eventually(lambda: routed_ticket(db, record["source_id"]))
    ticket_id = row["ticket_id"]
    assert (row["status"], row["lead_unit"], row["town"], row["category"]) == (
        "dispatched",
        "zjj",
        "baimaqiao",
        "drainage.sewer",
    )
    assert list(row["co_units"]) == ["baimaqiao"]
    events = await db.fetch(
        "SELECT type, version FROM ticket_events WHERE ticket_id = $1 ORDER BY version", ticket_id
    )
    assert [(e["type"], e["version"]) for e in events] == [("ticket_received", 1), ("ticket_dispatched", 2)]

    lead_orders = await eventually(lambda: orders_for(stack, "zjj", ticket_id))
    await asyncio.sleep(1.5)  # give a duplicate time to show up, if there were one
    lead_orders = await orders_for(stack, "zjj", ticket_id)
    co_orders = await orders_for(stack, "baimaqiao", ticket_id)
    assert len(lead_orders) == 1 and len(co_orders) == 1
    order = lead_orders[0]
    assert order["role"] == "lead" and order["unit"] == "zjj" and order["co"] == ["baimaqiao"]
    assert order["caller"] == {"name": "向先生", "phone": "189****5216"}
    assert order["order_id"] == f"{ticket_id}:2:zjj"


async def test_the_same_appeal_twice_makes_one_ticket_and_one_order(
    stack: Stack, db: asyncpg.Connection
) -> None:
    record = appeal()
    await produce(stack.settings.kafka, stack.names.intake, [encoded(record), encoded(record)])

    async def with_duplicate() -> asyncpg.Record | None:
        row = await ticket_for(db, record["source_id"])
        return row if row is not None and row["version"] == 3 else None

    row = await eventually(with_duplicate)
    ticket_id = row["ticket_id"]
    assert json.loads(row["state"])["duplicates"] == 1
    count = await db.fetchval(
        "SELECT count(*) FROM tickets WHERE state->'appeal'->>'source_id' = $1", record["source_id"]
    )
    assert count == 1
    types = await db.fetch("SELECT type FROM ticket_events WHERE ticket_id = $1 ORDER BY version", ticket_id)
    assert [t["type"] for t in types] == ["ticket_received", "ticket_dispatched", "duplicate_received"]
    await asyncio.sleep(1.0)
    assert len(await orders_for(stack, "zjj", ticket_id)) == 1


async def test_a_malformed_appeal_is_rejected_with_its_reason_and_the_pipeline_goes_on(
    stack: Stack, db: asyncpg.Connection
) -> None:
    kafka = stack.settings.kafka
    bad_key, bad_value = b"phone:broken-1", b'{"channel": "phone", "source_id": "broken-1", "text": '
    good = appeal()
    await produce(kafka, stack.names.intake, [(bad_key, bad_value), encoded(good)])

    await eventually(lambda: ticket_for(db, good["source_id"]))

    async def rejections() -> list[dict[str, Any]]:
        records = await read_all(kafka, stack.names.rejected)
        return [json.loads(v) for k, v in records if k == bad_key]

    found = await eventually(rejections)
    assert len(found) == 1
    rejected = found[0]
    assert rejected["reason"] == "invalid_json"
    assert rejected["original"] == bad_value.decode()
    assert rejected["original_encoding"] == "utf-8"
    assert rejected["source"]["topic"] == stack.names.intake
    assert str(rejected["message"]).startswith("invalid JSON")
