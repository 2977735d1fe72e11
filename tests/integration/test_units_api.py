"""The HTTP API for units and the control room on the real pipeline: a token's holder acts over
HTTP, the action or command lands on the topic a Kafka client would use, the ticket agent
decides, and the event and the PostgreSQL row follow."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from domain.access import Principal, TokenRole
from domain.intake.ids import receive_command
from infra.postgres.store import AsyncpgTicketStore
from infra.postgres.tokens import AsyncpgTokenStore
from schemas.appeal import Appeal
from schemas.triage import TriageDecision
from shaobao import tokens_cli
from tests.integration.conftest import Stack
from tests.integration.kafkatools import appeal, eventually, produce, read_all
from tests.integration.lifecycletools import (
    ACTION_FIELDS,
    alerts_for,
    event_types,
    kinds_of,
    last_event,
    open_ticket,
    orders_of,
    row_at,
    substance,
)
from tests.integration.webtools import Web, running_web

pytestmark = pytest.mark.integration
PHONE = "18939595216"


@pytest.fixture(scope="module")
async def web(stack: Stack) -> AsyncIterator[Web]:
    async with running_web(stack.settings) as running:
        yield running


@pytest.fixture(scope="module")
async def tokens(stack: Stack) -> AsyncIterator[AsyncpgTokenStore]:
    store = AsyncpgTicketStore(stack.settings.database_url)
    try:
        yield AsyncpgTokenStore(store)
    finally:
        await store.close()


async def cli(args: list[str], stack: Stack) -> tuple[int, str]:
    """`shaobao tokens ...` as an operator runs it (its own event loop, so in a thread here)."""
    out = io.StringIO()
    code = await asyncio.to_thread(tokens_cli.run, args, stack.settings, out)
    return code, out.getvalue()


async def token_for(tokens: AsyncpgTokenStore, subject: str, role: TokenRole = "unit") -> dict[str, str]:
    issued = await tokens.issue(Principal(subject=subject, role=role))
    return {"Authorization": f"Bearer {issued.token}"}


def action(kind: str, ticket_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "action_id": f"http-{uuid.uuid4().hex[:12]}",
        "ticket_id": ticket_id,
        "acted_at": datetime.now(UTC).isoformat(),
        **ACTION_FIELDS[kind],
        **fields,
    }


async def test_a_unit_lists_its_order_signs_and_completes_over_http(
    stack: Stack, web: Web, db: asyncpg.Connection, tokens: AsyncpgTokenStore
) -> None:
    zjj = await token_for(tokens, "zjj")
    ticket = await open_ticket(stack, db)

    listed = await web.client.get("/api/units/me/orders", headers=zjj)
    assert listed.status_code == 200, listed.text
    [order] = [o for o in listed.json()["orders"] if o["ticket_id"] == ticket]
    assert (order["unit"], order["role"], order["lead"], order["co"], order["note"]) == (
        "zjj",
        "lead",
        "zjj",
        ["baimaqiao"],
        "dispatched",
    )
    assert order["caller"] == {"name": "向先生", "phone": "189****5216"}

    sign = action("sign", ticket)
    for _ in range(2):  # a retried POST: the same action id acts once
        signed = await web.client.post(f"/api/units/me/orders/{ticket}/actions", json=sign, headers=zjj)
        assert signed.status_code == 202, signed.text
        assert signed.json() == {
            "ticket_id": ticket,
            "action_id": sign["action_id"],
            "command_id": f"unit:zjj:{sign['action_id']}",
        }
    completed = await web.client.post(
        f"/api/units/me/orders/{ticket}/actions", json=action("complete", ticket, reply="已疏通"), headers=zjj
    )
    assert completed.status_code == 202, completed.text

    row = await row_at(db, ticket, 4)
    assert (row["status"], json.loads(row["state"])["reply"]) == ("completed", "已疏通")
    assert await event_types(db, ticket) == [
        "ticket_received",
        "ticket_dispatched",
        "order_signed",
        "ticket_completed",
    ]
    records = await read_all(stack.settings.kafka, stack.names.events)
    on_the_log = [json.loads(v)["type"] for k, v in records if k == ticket.encode()]
    assert on_the_log == ["ticket_received", "ticket_dispatched", "order_signed", "ticket_completed"]
    after = await web.client.get("/api/units/me/orders", headers=zjj)
    assert [o for o in after.json()["orders"] if o["ticket_id"] == ticket] == []  # no longer being worked on
    web.assert_never_shown(PHONE)


async def test_a_units_token_acting_on_another_units_ticket_changes_nothing_and_raises_a_security_alert(
    stack: Stack, web: Web, db: asyncpg.Connection, tokens: AsyncpgTokenStore
) -> None:
    ticket = await open_ticket(stack, db)
    before = await row_at(db, ticket, 2)
    cgj = await token_for(tokens, "cgj")
    held = (await web.client.get("/api/units/me/orders", headers=cgj)).json()["orders"]
    assert [o for o in held if o["ticket_id"] == ticket] == []

    forged = action("complete", ticket)
    response = await web.client.post(f"/api/units/me/orders/{ticket}/actions", json=forged, headers=cgj)
    assert response.status_code == 202  # the API decides nothing: the ticket agent does

    after = await row_at(db, ticket, 3)
    assert substance(after) == substance(before)
    rejected = await last_event(db, ticket)
    assert (rejected["type"], rejected["violation"], rejected["actor"]) == (
        "command_rejected",
        "authorization",
        "cgj",
    )

    async def alert() -> list[dict[str, Any]]:
        command_id = f"unit:cgj:{forged['action_id']}"
        return [a for a in await alerts_for(stack, ticket) if a["details"].get("command_id") == command_id]

    [raised] = await eventually(alert)
    assert (raised["kind"], raised["severity"], raised["unit"]) == ("security", "critical", "cgj")


async def test_unknown_and_revoked_tokens_are_401_and_the_table_keeps_only_hashes(
    stack: Stack, web: Web, db: asyncpg.Connection
) -> None:
    code, issued = await cli(["issue", "--unit", "zjj", "--name", "住建局系统"], stack)
    assert code == 0, issued
    token = issued.split("token (shown once, keep it secret): ")[1].strip()
    token_id = issued.split()[0]
    zjj = {"Authorization": f"Bearer {token}"}
    assert (await web.client.get("/api/units/me/orders", headers=zjj)).status_code == 200

    rows = await db.fetch("SELECT * FROM unit_tokens")
    assert token not in json.dumps([dict(r) for r in rows], default=str)
    digest = hashlib.sha256(token.encode()).hexdigest()
    [mine] = [r for r in rows if r["token_sha256"] == digest]
    assert (mine["subject"], mine["role"], mine["label"], mine["revoked_at"]) == (
        "zjj",
        "unit",
        "住建局系统",
        None,
    )

    code, listed = await cli(["list"], stack)
    assert code == 0 and token_id in listed and token not in listed
    code, revoked = await cli(["revoke", token_id[:8]], stack)
    assert code == 0 and revoked.startswith(token_id) and " revoked " in revoked, revoked
    assert await cli(["revoke", token_id[:8]], stack) == (
        1,
        f"error: no active token with an id starting {token_id[:8]}\n",
    )

    ticket = await open_ticket(stack, db)
    for response in (
        await web.client.get("/api/units/me/orders", headers=zjj),
        await web.client.post(
            f"/api/units/me/orders/{ticket}/actions", json=action("sign", ticket), headers=zjj
        ),
        await web.client.get("/api/units/me/orders", headers={"Authorization": "Bearer sbk_never-issued"}),
    ):
        assert response.status_code == 401
    assert await db.fetchval("SELECT revoked_at IS NOT NULL FROM unit_tokens WHERE token_sha256 = $1", digest)
    assert (await row_at(db, ticket, 2))["status"] == "dispatched"


async def manual_ticket(stack: Stack, db: asyncpg.Connection) -> str:
    """A ticket the router could not place: it waits in the manual queue for a person."""
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
    command = receive_command(Appeal.model_validate(source), ticket, triage, datetime.now(UTC))
    await produce(
        stack.settings.kafka,
        stack.names.commands,
        [(ticket.encode(), command.model_dump_json().encode())],
    )
    assert (await row_at(db, ticket, 2))["status"] == "manual"
    return ticket


async def test_the_control_room_dispatches_a_manual_ticket_once_however_often_the_post_is_retried(
    stack: Stack, web: Web, db: asyncpg.Connection, tokens: AsyncpgTokenStore
) -> None:
    ticket = await manual_ticket(stack, db)
    desk = {**await token_for(tokens, "王坐席", "control_room"), "Idempotency-Key": f"desk-{ticket}"}
    body = {"lead": "zjj", "co": ["baimaqiao"], "town": "baimaqiao"}
    answers = [
        await web.client.post(f"/api/control/tickets/{ticket}/dispatch", json=body, headers=desk)
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [202, 202, 202]
    assert len({a.json()["command_id"] for a in answers}) == 1

    row = await row_at(db, ticket, 3)
    assert (row["status"], row["lead_unit"], list(row["co_units"]), row["town"]) == (
        "dispatched",
        "zjj",
        ["baimaqiao"],
        "baimaqiao",
    )
    dispatched = await last_event(db, ticket)
    assert (dispatched["type"], dispatched["by"], dispatched["operator"]) == (
        "ticket_dispatched",
        "person",
        "王坐席",
    )
    assert dispatched["command_id"] == answers[0].json()["command_id"]
    assert await kinds_of(stack, "zjj", ticket, 1) == ["order"]
    [order] = await orders_of(stack, "zjj", ticket)
    assert (order["role"], order["lead"], order["co"], order["caller"]["phone"]) == (
        "lead",
        "zjj",
        ["baimaqiao"],
        "189****5216",
    )
    # What follows the retries on the ticket's partition shows they were processed, changing nothing.
    zjj = await token_for(tokens, "zjj")
    signed = await web.client.post(
        f"/api/units/me/orders/{ticket}/actions", json=action("sign", ticket), headers=zjj
    )
    assert signed.status_code == 202
    await row_at(db, ticket, 4)
    assert await event_types(db, ticket) == [
        "ticket_received",
        "ticket_queued_for_manual_dispatch",
        "ticket_dispatched",
        "order_signed",
    ]


async def test_only_the_supervisor_judges_a_dissatisfied_demand_unreasonable(
    stack: Stack, web: Web, db: asyncpg.Connection, tokens: AsyncpgTokenStore
) -> None:
    ticket = await open_ticket(stack, db)
    zjj = await token_for(tokens, "zjj")
    desk = await token_for(tokens, "王坐席", "control_room")
    for kind in ("sign", "complete"):
        answer = await web.client.post(
            f"/api/units/me/orders/{ticket}/actions", json=action(kind, ticket), headers=zjj
        )
        assert answer.status_code == 202
    await row_at(db, ticket, 4)
    callback = await web.client.post(
        f"/api/control/tickets/{ticket}/callback", json={"outcome": "dissatisfied"}, headers=desk
    )
    assert callback.status_code == 202, callback.text
    assert (await row_at(db, ticket, 5))["status"] == "dissatisfied"

    judgement = {"reason": "诉求超出政策范围"}
    refused = await web.client.post(
        f"/api/control/tickets/{ticket}/judge-unreasonable", json=judgement, headers=desk
    )
    assert (refused.status_code, refused.json()["error"]) == (403, "forbidden")
    boss = await token_for(tokens, "李主任", "supervisor")
    judged = await web.client.post(
        f"/api/control/tickets/{ticket}/judge-unreasonable", json=judgement, headers=boss
    )
    assert judged.status_code == 202, judged.text
    row = await row_at(db, ticket, 7)
    assert (row["status"], row["resolution"]) == ("closed", "unreasonable")
    assert (await event_types(db, ticket))[-2:] == ["demand_judged_unreasonable", "ticket_closed"]
