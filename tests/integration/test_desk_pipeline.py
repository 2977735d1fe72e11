"""Appeals taken at the desk through the real pipeline: the operator's decision is what
happens, the answer is kept, and an answer on the line is called back (issue 19)."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest

from tests.integration.conftest import Stack
from tests.integration.kafkatools import appeal, encoded, eventually, produce
from tests.integration.lifecycletools import control, event_types, routed_ticket, row_at

pytestmark = pytest.mark.integration

ANSWER = {
    "text": "退休提取住房公积金：本人带身份证、退休证到市政务服务中心公积金窗口办理，当日到账。",
    "entry_id": "gjj-withdraw-retirement",
    "source": "《宁乡市住房公积金提取管理办法》 第八条",
}
CONSULT = "我爸今年退休了，想问下他的公积金怎么全部取出来，要带些么子材料？"


async def taken(stack: Stack, db: asyncpg.Connection, text: str, decision: dict[str, Any]) -> asyncpg.Record:
    record = appeal(text=text, desk={"operator": "李敏", **decision})
    await produce(stack.settings.kafka, stack.names.intake, [encoded(record)])
    return await eventually(lambda: routed_ticket(db, record["source_id"]))


async def second_event(db: asyncpg.Connection, ticket_id: str) -> dict[str, Any]:
    payload = await db.fetchval(
        "SELECT payload FROM ticket_events WHERE ticket_id = $1 AND version = 2", ticket_id
    )
    return dict(json.loads(payload))


async def test_an_answer_on_the_line_is_an_instant_ticket_with_its_answer_then_called_back(
    stack: Stack, db: asyncpg.Connection
) -> None:
    row = await taken(stack, db, CONSULT, {"action": "answer", "answer": ANSWER})
    ticket_id = row["ticket_id"]
    assert (row["status"], row["lead_unit"]) == ("instant", None)
    answered = await second_event(db, ticket_id)
    assert {k: answered[k] for k in ("type", "answer", "entry_id", "source", "operator")} == {
        "type": "ticket_answered_instantly",
        "answer": ANSWER["text"],
        "entry_id": ANSWER["entry_id"],
        "source": ANSWER["source"],
        "operator": "李敏",
    }
    await control(stack, ticket_id, "callback", outcome="dissatisfied", note="还是不清楚要哪些材料")
    after = await row_at(db, ticket_id, 4)
    assert after["status"] == "manual"
    assert await event_types(db, ticket_id) == [
        "ticket_received",
        "ticket_answered_instantly",
        "callback_recorded",
        "ticket_queued_for_manual_dispatch",
    ]


async def test_a_dispatch_at_the_desk_takes_the_operators_correction_and_a_transfer_its_number(
    stack: Stack, db: asyncpg.Connection
) -> None:
    # The text reads as a sewer in 白马桥 (zjj lead); the operator heard it is the water supply.
    row = await taken(stack, db, appeal()["text"], {"action": "dispatch", "category": "utility.water"})
    assert (row["status"], row["category"], row["lead_unit"]) == ("dispatched", "utility.water", "gsgs")
    dispatched = await second_event(db, row["ticket_id"])
    assert (dispatched["by"], dispatched["operator"]) == ("person", "李敏")
    moved = await taken(stack, db, "家里老人突然晕倒了，叫不醒", {"action": "transfer", "transfer_to": "120"})
    assert moved["status"] == "transferred"
    assert (await second_event(db, moved["ticket_id"]))["transfer_to"] == "120"
