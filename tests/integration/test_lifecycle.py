"""Every path of the ticket lifecycle end to end: order out to the unit's topic, its action in
on its own topic, the event, and the PostgreSQL row."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import asyncpg
import pytest

from domain.intake.ids import receive_command
from schemas.appeal import Appeal
from schemas.triage import TriageDecision
from tests.integration.conftest import Stack
from tests.integration.kafkatools import appeal, produce
from tests.integration.lifecycletools import (
    act,
    control,
    event_types,
    kinds_of,
    last_event,
    open_ticket,
    orders_of,
    row_at,
)

pytestmark = pytest.mark.integration


async def test_signed_reported_completed_and_closed_after_a_satisfied_callback(
    stack: Stack, db: asyncpg.Connection
) -> None:
    ticket = await open_ticket(stack, db)
    assert await kinds_of(stack, "zjj", ticket, 1) == ["order"]
    await act(stack, "zjj", ticket, "sign")
    row = await row_at(db, ticket, 3)
    assert (row["status"], row["signed_at"] is not None) == ("signed", True)
    # Each unit's actions come in order on its own topic; across topics, the test waits.
    await act(stack, "baimaqiao", ticket, "sign")
    await act(stack, "baimaqiao", ticket, "report_part")
    await row_at(db, ticket, 5)
    await act(stack, "zjj", ticket, "note_progress")
    await act(stack, "zjj", ticket, "complete", reply="已疏通，路面已冲洗")
    row = await row_at(db, ticket, 7)
    assert (row["status"], json.loads(row["state"])["reply"]) == ("completed", "已疏通，路面已冲洗")
    await control(stack, ticket, "callback", outcome="satisfied")
    row = await row_at(db, ticket, 9)
    assert (row["status"], row["resolution"], row["satisfaction"]) == ("closed", "callback", "satisfied")
    assert row["closed_at"] is not None and row["completed_at"] is not None
    assert await event_types(db, ticket) == [
        "ticket_received",
        "ticket_dispatched",
        "order_signed",
        "order_signed",
        "part_reported",
        "progress_noted",
        "ticket_completed",
        "callback_recorded",
        "ticket_closed",
    ]
    await asyncio.sleep(1.0)  # a stray order would show up by now
    assert [o["kind"] for o in await orders_of(stack, "zjj", ticket)] == ["order"]


async def test_a_return_is_redispatched_to_the_routers_next_candidate_and_the_old_lead_is_cancelled(
    stack: Stack, db: asyncpg.Connection
) -> None:
    ticket = await open_ticket(stack, db)
    await act(stack, "zjj", ticket, "return", reason_code="wrong_category", suggested_unit="cgj")
    row = await row_at(db, ticket, 3)
    assert (row["status"], row["lead_unit"]) == ("returned", None)
    returned = await last_event(db, ticket)
    assert (returned["reason_code"], returned["suggested_unit"]) == ("wrong_category", "cgj")
    await control(stack, ticket, "redispatch", reason="按退单建议改派")
    row = await row_at(db, ticket, 4)
    assert (row["status"], row["lead_unit"], list(row["co_units"])) == ("dispatched", "cgj", ["baimaqiao"])
    assert await kinds_of(stack, "zjj", ticket, 2) == ["order", "cancel"]
    assert await kinds_of(stack, "cgj", ticket, 1) == ["order"]
    assert await kinds_of(stack, "baimaqiao", ticket, 2) == ["order", "update"]
    cgj = (await orders_of(stack, "cgj", ticket))[0]
    assert (cgj["role"], cgj["lead"], cgj["caller"]["phone"]) == ("lead", "cgj", "189****5216")
    # The new lead works it through.
    await act(stack, "cgj", ticket, "sign")
    await act(stack, "cgj", ticket, "complete")
    assert (await row_at(db, ticket, 6))["status"] == "completed"


async def test_a_denied_return_stays_with_its_unit_which_hears_why(
    stack: Stack, db: asyncpg.Connection
) -> None:
    ticket = await open_ticket(stack, db)
    await act(stack, "zjj", ticket, "sign")
    await act(stack, "zjj", ticket, "return")
    await row_at(db, ticket, 4)  # the control room decides what it has seen
    await control(stack, ticket, "deny_return", reason="排水设施属住建局职责")
    row = await row_at(db, ticket, 5)
    assert (row["status"], row["lead_unit"]) == ("signed", "zjj")
    update = (await orders_of(stack, "zjj", ticket))[-1]
    assert (update["kind"], update["note"]) == ("update", "退单未获批准：排水设施属住建局职责")


async def test_extensions_are_granted_capped_or_denied_and_the_lead_is_told(
    stack: Stack, db: asyncpg.Connection
) -> None:
    ticket = await open_ticket(stack, db)
    await act(stack, "zjj", ticket, "sign")
    await act(stack, "zjj", ticket, "request_extension", extra="10wd", reason="需更换整段管网")
    await row_at(db, ticket, 4)  # the control room decides what it has seen
    await control(stack, ticket, "grant_extension")
    await row_at(db, ticket, 5)
    granted = await last_event(db, ticket)
    assert (granted["type"], granted["requested"], granted["granted"], granted["capped"]) == (
        "extension_granted",
        "10wd",
        "5wd",
        True,
    )
    await act(stack, "zjj", ticket, "request_extension", extra="2wd", reason="再需两天")
    await row_at(db, ticket, 6)
    await control(stack, ticket, "deny_extension", reason="可在时限内办结")
    row = await row_at(db, ticket, 7)
    assert json.loads(row["state"])["extensions"] == ["5wd"]
    await kinds_of(stack, "zjj", ticket, 3)
    notes = [o["note"] for o in await orders_of(stack, "zjj", ticket)]
    assert notes == [None, "延期已批准：延长 5wd（按最长延期封顶）", "延期未获批准：可在时限内办结"]


async def test_a_dissatisfied_callback_is_reworked_then_closed_satisfied(
    stack: Stack, db: asyncpg.Connection
) -> None:
    ticket = await open_ticket(stack, db)
    await act(stack, "zjj", ticket, "sign")
    await act(stack, "zjj", ticket, "complete")
    await row_at(db, ticket, 4)
    await control(stack, ticket, "callback", outcome="dissatisfied")
    assert (await row_at(db, ticket, 5))["status"] == "dissatisfied"
    await control(stack, ticket, "rework", reason="群众反映仍有污水")
    row = await row_at(db, ticket, 6)
    assert (row["status"], row["rework_count"], row["signed_at"]) == ("dispatched", 1, None)
    assert await kinds_of(stack, "zjj", ticket, 2) == ["order", "order"]
    rework = (await orders_of(stack, "zjj", ticket))[-1]
    assert (rework["rework_count"], rework["note"]) == (1, "发回重办（第1次）：群众反映仍有污水")
    assert await kinds_of(stack, "baimaqiao", ticket, 2) == ["order", "order"]
    await act(stack, "zjj", ticket, "sign")
    await act(stack, "zjj", ticket, "complete", reply="已彻底疏通")
    await row_at(db, ticket, 8)
    await control(stack, ticket, "callback", outcome="basically_satisfied")
    row = await row_at(db, ticket, 10)
    assert (row["status"], row["satisfaction"], row["rework_count"]) == ("closed", "basically_satisfied", 1)


async def test_the_supervisor_alone_closes_a_dissatisfied_demand_as_unreasonable(
    stack: Stack, db: asyncpg.Connection
) -> None:
    ticket = await open_ticket(stack, db)
    await act(stack, "zjj", ticket, "sign")
    await act(stack, "zjj", ticket, "complete")
    await row_at(db, ticket, 4)
    await control(stack, ticket, "callback", outcome="dissatisfied")
    await control(stack, ticket, "judge_unreasonable", reason="要求超出政策")  # the control room may not
    rejected = await row_at(db, ticket, 6)
    assert rejected["status"] == "dissatisfied"
    assert (await last_event(db, ticket))["violation"] == "authorization"
    await control(stack, ticket, "judge_unreasonable", role="supervisor", reason="要求赔偿超出政策范围")
    row = await row_at(db, ticket, 8)
    assert (row["status"], row["resolution"]) == ("closed", "unreasonable")
    assert (await event_types(db, ticket))[-2:] == ["demand_judged_unreasonable", "ticket_closed"]


async def test_an_unreachable_citizen_closes_after_three_tries(stack: Stack, db: asyncpg.Connection) -> None:
    ticket = await open_ticket(stack, db)
    await act(stack, "zjj", ticket, "sign")
    await act(stack, "zjj", ticket, "complete")
    await row_at(db, ticket, 4)
    for _ in range(3):
        await control(stack, ticket, "callback", outcome="unreachable")
    row = await row_at(db, ticket, 8)
    assert (row["status"], row["resolution"], row["satisfaction"]) == ("closed", "unreachable", "unreachable")


async def test_a_manual_ticket_is_dispatched_by_a_person_and_redispatched_by_a_person(
    stack: Stack, db: asyncpg.Connection
) -> None:
    now = datetime.now(UTC)
    source = appeal()
    triage = TriageDecision(
        appeal_type="help",
        category="drainage.sewer",
        urgency="normal",
        town=None,
        disposition="manual",
        confidence=0.2,
        explanation=("地点不明，转人工派单",),
    )
    ticket = f"manual-{source['source_id']}"
    command = receive_command(Appeal.model_validate(source), ticket, triage, now)
    await produce(
        stack.settings.kafka,
        stack.names.commands,
        [(ticket.encode(), command.model_dump_json().encode())],
    )
    assert (await row_at(db, ticket, 2))["status"] == "manual"
    await control(stack, ticket, "dispatch", lead="zjj", co=("baimaqiao",), town="baimaqiao")
    row = await row_at(db, ticket, 3)
    assert (row["status"], row["lead_unit"], row["town"]) == ("dispatched", "zjj", "baimaqiao")
    assert (await last_event(db, ticket))["by"] == "person"
    assert await kinds_of(stack, "zjj", ticket, 1) == ["order"]
    await act(stack, "zjj", ticket, "sign")
    await row_at(db, ticket, 4)
    await control(stack, ticket, "redispatch", lead="gsgs", co=(), reason="属供水管网")
    row = await row_at(db, ticket, 5)
    assert (row["lead_unit"], list(row["co_units"])) == ("gsgs", [])
    assert await kinds_of(stack, "zjj", ticket, 2) == ["order", "cancel"]
    assert await kinds_of(stack, "baimaqiao", ticket, 2) == ["order", "cancel"]
    assert await kinds_of(stack, "gsgs", ticket, 1) == ["order"]


async def test_a_merged_appeal_closes_its_ticket_into_the_other_and_both_citizens_are_called_back(
    stack: Stack, db: asyncpg.Connection
) -> None:
    target = await open_ticket(stack, db)
    other = appeal(caller={"name": "李女士", "phone": "13800001111"})
    source = await open_ticket(stack, db, **other)
    await control(stack, target, "merge", source_ticket_id=source, source_appeal=Appeal.model_validate(other))
    row = await row_at(db, source, 3)
    assert (row["status"], row["resolution"], row["merged_into"]) == ("closed", "merged", target)
    assert await kinds_of(stack, "zjj", source, 2) == ["order", "cancel"]
    assert json.loads((await row_at(db, target, 3))["state"])["citizens"][0]["ticket_id"] == source
    await act(stack, "zjj", target, "sign")
    await act(stack, "zjj", target, "complete")
    await row_at(db, target, 5)
    await control(stack, target, "callback", outcome="satisfied")
    assert (await row_at(db, target, 6))["status"] == "completed"
    await control(stack, target, "callback", citizen=f"phone:{other['source_id']}", outcome="no_comment")
    assert (await row_at(db, target, 8))["status"] == "closed"


async def test_the_same_action_sent_twice_is_one_event(stack: Stack, db: asyncpg.Connection) -> None:
    ticket = await open_ticket(stack, db)
    await act(stack, "zjj", ticket, "sign", action_id="ZJJ-2026-0001")
    await act(stack, "zjj", ticket, "sign", action_id="ZJJ-2026-0001")
    await act(stack, "zjj", ticket, "note_progress")
    await row_at(db, ticket, 4)
    await asyncio.sleep(1.0)
    assert await event_types(db, ticket) == [
        "ticket_received",
        "ticket_dispatched",
        "order_signed",
        "progress_noted",
    ]
    signed = await db.fetchval(
        "SELECT payload->>'command_id' FROM ticket_events WHERE ticket_id = $1 AND version = 3", ticket
    )
    assert signed == "unit:zjj:ZJJ-2026-0001"


async def test_a_caller_declared_confidential_is_withheld_from_every_order_after_it(
    stack: Stack, db: asyncpg.Connection
) -> None:
    ticket = await open_ticket(stack, db)
    await control(stack, ticket, "confidential", reason="来电人担心被报复")
    row = await row_at(db, ticket, 3)
    state = json.loads(row["state"])
    assert (state["appeal"]["confidential"], state["triage"]["caller_withheld"]) == (True, True)
    withheld = await last_event(db, ticket)
    assert (withheld["type"], withheld["reason"], withheld["operator"]) == (
        "caller_withheld",
        "来电人担心被报复",
        "测试坐席",
    )
    # Declared twice: the second is refused and changes nothing.
    await control(stack, ticket, "confidential", reason="再次声明")
    await row_at(db, ticket, 4)
    again = await last_event(db, ticket)
    assert (again["type"], again["reason"]) == ("command_rejected", "the caller is already withheld")
    # The orders written from now on carry no caller; the first one had the masked one.
    await act(stack, "zjj", ticket, "return", reason_code="wrong_category", suggested_unit="cgj")
    await row_at(db, ticket, 5)
    await control(stack, ticket, "redispatch", reason="按退单建议改派")
    await row_at(db, ticket, 6)
    assert await kinds_of(stack, "cgj", ticket, 1) == ["order"]
    [cgj] = await orders_of(stack, "cgj", ticket)
    [first, *_] = await orders_of(stack, "zjj", ticket)
    assert (first["caller"]["phone"], cgj["caller"]) == ("189****5216", None)
