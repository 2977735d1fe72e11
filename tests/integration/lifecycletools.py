"""Driving tickets through their lifecycle on the real stack: units write their actions to
their own topics, the control room its commands to `tickets.commands`; tests read back the
orders, the alerts and the PostgreSQL rows."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg

from schemas.http_api import CONTROL_ENDPOINTS
from tests.integration.conftest import Stack
from tests.integration.kafkatools import appeal, encoded, eventually, produce, read_all, ticket_for

# The control-room commands by name, as the HTTP API knows them ("deny-return" → "deny_return").
CONTROL: dict[str, Any] = {e.path.replace("-", "_"): e.command for e in CONTROL_ENDPOINTS}
ACTION_FIELDS: dict[str, dict[str, Any]] = {
    "sign": {},
    "return": {"reason_code": "not_our_duty", "reason": "不属本单位职责"},
    "request_extension": {"extra": "3wd", "reason": "需协调施工队"},
    "note_progress": {"note": "已到现场查看"},
    "report_part": {"report": "已配合疏通"},
    "complete": {"reply": "已疏通下水道，路面已清洗"},
    "whistle": {"units": ["cgj"], "reason": "需执法力量到场"},
    "report_in": {"note": "已到现场报到"},
}
# The bookkeeping a rejected command changes; everything else must stay as it was.
BOOKKEEPING = ("version", "updated_at", "recent_command_ids", "rejected_commands")


async def routed_ticket(db: asyncpg.Connection, source_id: str) -> asyncpg.Record | None:
    """The ticket's row once the router has decided: the sink may write `ticket_received` and
    the dispatch in two batches, so a row can be seen at "received" for a moment."""
    row = await ticket_for(db, source_id)
    return row if row is not None and row["status"] != "received" else None


async def open_ticket(stack: Stack, db: asyncpg.Connection, **overrides: Any) -> str:
    """An appeal through intake; the router dispatches it to zjj (lead) and baimaqiao (co)."""
    record = appeal(**overrides)
    await produce(stack.settings.kafka, stack.names.intake, [encoded(record)])
    row = await eventually(lambda: routed_ticket(db, record["source_id"]))
    assert (row["status"], row["lead_unit"], list(row["co_units"])) == ("dispatched", "zjj", ["baimaqiao"])
    return str(row["ticket_id"])


async def act(stack: Stack, unit: str, ticket_id: str, kind: str, **fields: Any) -> str:
    """A unit's action on its own topic, as its system would write it; returns the action id."""
    action_id = fields.pop("action_id", None) or f"act-{uuid.uuid4().hex[:12]}"
    payload = {
        "type": kind,
        "action_id": action_id,
        "ticket_id": ticket_id,
        "acted_at": datetime.now(UTC).isoformat(),
        **ACTION_FIELDS[kind],
        **fields,
    }
    value = json.dumps(payload, ensure_ascii=False).encode()
    await produce(stack.settings.kafka, stack.names.unit_actions(unit), [(ticket_id.encode(), value)])
    return str(action_id)


async def control(stack: Stack, ticket_id: str, kind: str, role: str = "control_room", **fields: Any) -> str:
    """A control-room command straight to `tickets.commands`; returns its command id."""
    command = CONTROL[kind](
        command_id=f"control:test:{uuid.uuid4().hex[:12]}",
        ticket_id=ticket_id,
        issued_at=datetime.now(UTC),
        operator="测试坐席",
        role=role,
        **fields,
    )
    await produce(
        stack.settings.kafka,
        stack.names.commands,
        [(ticket_id.encode(), command.model_dump_json().encode())],
    )
    return str(command.command_id)


async def row_at(db: asyncpg.Connection, ticket_id: str, version: int) -> asyncpg.Record:
    """The ticket's row once it has reached `version`."""

    async def probe() -> asyncpg.Record | None:
        row = await db.fetchrow("SELECT * FROM tickets WHERE ticket_id = $1", ticket_id)
        return row if row is not None and row["version"] >= version else None

    return await eventually(probe)


async def event_types(db: asyncpg.Connection, ticket_id: str) -> list[str]:
    rows = await db.fetch("SELECT type FROM ticket_events WHERE ticket_id = $1 ORDER BY version", ticket_id)
    return [row["type"] for row in rows]


async def last_event(db: asyncpg.Connection, ticket_id: str) -> dict[str, Any]:
    payload = await db.fetchval(
        "SELECT payload FROM ticket_events WHERE ticket_id = $1 ORDER BY version DESC LIMIT 1", ticket_id
    )
    return dict(json.loads(payload))


def substance(row: asyncpg.Record) -> dict[str, Any]:
    state = json.loads(row["state"])
    return {k: v for k, v in state.items() if k not in BOOKKEEPING}


async def orders_of(stack: Stack, unit: str, ticket_id: str) -> list[dict[str, Any]]:
    records = await read_all(stack.settings.kafka, stack.names.unit_orders(unit))
    return [order for _, value in records if (order := json.loads(value))["ticket_id"] == ticket_id]


async def kinds_of(stack: Stack, unit: str, ticket_id: str, count: int) -> list[str]:
    """The kinds of the orders a unit got for a ticket, once there are `count` of them."""

    async def probe() -> list[str] | None:
        kinds = [order["kind"] for order in await orders_of(stack, unit, ticket_id)]
        return kinds if len(kinds) >= count else None

    return await eventually(probe)


async def alerts_for(stack: Stack, ticket_id: str) -> list[dict[str, Any]]:
    records = await read_all(stack.settings.kafka, stack.names.alerts)
    return [json.loads(value) for key, value in records if key == ticket_id.encode()]
