"""A unit's identity is the topic it writes to: an action on another unit's ticket, or one its
role may not do, changes nothing and raises a security alert — for every kind of action."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest

from schemas.actions import UNIT_ACTION_TYPES
from tests.integration.conftest import Stack
from tests.integration.kafkatools import eventually, read_all
from tests.integration.lifecycletools import act, alerts_for, last_event, open_ticket, row_at, substance
from tests.integration.topictools import produce_placed

pytestmark = pytest.mark.integration


async def security_alert(stack: Stack, ticket_id: str, command_id: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        found = [
            a for a in await alerts_for(stack, ticket_id) if a["details"].get("command_id") == command_id
        ]
        return found[0] if found else None

    return await eventually(probe)


@pytest.mark.parametrize("kind", UNIT_ACTION_TYPES)
async def test_a_unit_acting_on_another_units_ticket_changes_nothing_and_raises_a_security_alert(
    stack: Stack, db: asyncpg.Connection, kind: str
) -> None:
    ticket = await open_ticket(stack, db)
    await act(stack, "zjj", ticket, "sign")
    before = await row_at(db, ticket, 3)

    # A unit writes to its own topic about zjj's ticket; only towns whistle, so a town not on it does.
    actor = "huangcai" if kind == "whistle" else "cgj"
    action_id = await act(stack, actor, ticket, kind)

    after = await row_at(db, ticket, 4)
    assert substance(after) == substance(before)
    assert json.loads(after["state"])["rejected_commands"] == 1
    assert (after["status"], after["lead_unit"], list(after["co_units"])) == ("signed", "zjj", ["baimaqiao"])
    rejected = await last_event(db, ticket)
    assert (rejected["type"], rejected["violation"], rejected["actor"], rejected["reason"]) == (
        "command_rejected",
        "authorization",
        actor,
        f"ticket is not assigned to unit {actor}",
    )
    alert = await security_alert(stack, ticket, f"unit:{actor}:{action_id}")
    assert (alert["kind"], alert["severity"], alert["unit"]) == ("security", "critical", actor)


@pytest.mark.parametrize(
    ("unit", "kind", "reason"),
    [
        ("baimaqiao", "complete", "a co unit may not complete ticket"),
        ("baimaqiao", "request_extension", "a co unit may not request extension"),
        ("zjj", "report_part", "a lead unit may not report part"),
    ],
)
async def test_an_action_the_units_role_may_not_do_changes_nothing_and_raises_a_security_alert(
    stack: Stack, db: asyncpg.Connection, unit: str, kind: str, reason: str
) -> None:
    ticket = await open_ticket(stack, db)
    await act(stack, "baimaqiao", ticket, "sign")
    await act(stack, "zjj", ticket, "sign")
    before = await row_at(db, ticket, 4)
    action_id = await act(stack, unit, ticket, kind)
    after = await row_at(db, ticket, 5)
    assert substance(after) == substance(before)
    rejected = await last_event(db, ticket)
    assert (rejected["violation"], rejected["reason"]) == ("authorization", reason)
    alert = await security_alert(stack, ticket, f"unit:{unit}:{action_id}")
    assert (alert["kind"], alert["unit"]) == ("security", unit)


async def test_an_action_out_of_turn_is_an_ordinary_rejection_not_a_security_one(
    stack: Stack, db: asyncpg.Connection
) -> None:
    ticket = await open_ticket(stack, db)
    action_id = await act(stack, "zjj", ticket, "complete")  # before signing
    after = await row_at(db, ticket, 3)
    assert after["status"] == "dispatched"
    rejected = await last_event(db, ticket)
    assert (rejected["violation"], rejected["reason"]) == (
        "state",
        "unit zjj cannot complete: its order is dispatched",
    )
    alert = await security_alert(stack, ticket, f"unit:zjj:{action_id}")
    assert (alert["kind"], alert["severity"]) == ("command_rejected", "warning")


async def test_an_action_on_a_ticket_that_does_not_exist_is_refused_as_a_security_matter(
    stack: Stack, db: asyncpg.Connection
) -> None:
    action_id = await act(stack, "cgj", "20990101-00-999999", "sign")
    alert = await security_alert(stack, "20990101-00-999999", f"unit:cgj:{action_id}")
    assert (alert["kind"], alert["unit"], alert["details"]["reason"]) == ("security", "cgj", "no such ticket")
    assert await db.fetchval("SELECT count(*) FROM tickets WHERE ticket_id = '20990101-00-999999'") == 0


async def test_an_undecodable_action_is_a_dead_letter_alerted_with_its_unit_and_the_agent_goes_on(
    stack: Stack, db: asyncpg.Connection
) -> None:
    ticket = await open_ticket(stack, db)
    kafka, topic = stack.settings.kafka, stack.names.unit_actions("zjj")
    # A unit naming itself in the payload is refused: identity comes from the topic only.
    forged = {"type": "sign", "action_id": "x", "ticket_id": ticket, "acted_at": "2026-03-02T10:00:00+08:00"}
    [placed] = await produce_placed(
        kafka, topic, [(ticket.encode(), json.dumps({**forged, "unit": "zjj"}).encode())]
    )
    await act(stack, "zjj", ticket, "sign")
    assert (await row_at(db, ticket, 3))["status"] == "signed"
    letter = f"{topic}:{placed.partition}:{placed.offset}:take_in_unit_actions"

    async def undecodable() -> list[dict[str, Any]]:
        records = await read_all(kafka, stack.names.alerts)
        return [json.loads(v) for k, v in records if k == b"zjj" and letter.encode() in v]

    alerts = await eventually(undecodable)
    assert [(a["kind"], a["unit"], a["details"]["reason"]) for a in alerts] == [
        ("dead_letter", "zjj", "contract_violation")
    ]
