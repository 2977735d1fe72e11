"""The units' and control room's HTTP API with fakes for the token store, Kafka and PostgreSQL:
who may call what, what is put on which topic, with which ids, and the published document."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate
from starlette.applications import Starlette

from domain.access import Forbidden, Principal, body_key, control_command, may_command
from domain.intake.ids import receive_command
from domain.jurisdiction import Jurisdiction
from domain.ticket import TicketState
from domain.ticket.decide import decide
from schemas.appeal import Appeal, Caller
from schemas.commands import DispatchTicket, JudgeUnreasonable, MergeAppeal
from schemas.http_api import CONTROL_BY_PATH, CONTROL_ENDPOINTS
from schemas.openapi import openapi_document, openapi_json
from shaobao import contract_cli
from tests.fakes import SEWER_TRIAGE, InMemoryPublisher, InMemoryTickets, InMemoryTokenVerifier
from web.api.units import UnitsApi, units_api_routes

NOW = datetime(2026, 3, 2, 1, 15, tzinfo=UTC)
PHONE = "18939595216"
TOKENS = {
    "zjj-token": Principal("zjj", "unit"),
    "nowhere-token": Principal("nowhere", "unit"),
    "desk-token": Principal("王坐席", "control_room"),
    "boss-token": Principal("李主任", "supervisor"),
}
DISPATCH = {"lead": "zjj", "co": ["baimaqiao"]}


def ticket(ticket_id: str, source_id: str) -> TicketState:
    appeal = Appeal(
        channel="phone",
        source_id=source_id,
        received_at=NOW,
        text=f"凤凰城小区门口下水道堵塞，我的电话{PHONE}",
        address="凤凰城小区",
        caller=Caller(name="向建国", phone=PHONE),
    )
    state = decide(None, receive_command(appeal, ticket_id, SEWER_TRIAGE, NOW), NOW).state
    assert state is not None
    return state


@pytest.fixture
def kafka() -> InMemoryPublisher:
    return InMemoryPublisher()


@pytest.fixture
def tickets() -> InMemoryTickets:
    return InMemoryTickets(ticket("T1", "s1"), ticket("T2", "s2"))


@pytest.fixture
async def client(
    kafka: InMemoryPublisher, tickets: InMemoryTickets, jurisdiction: Jurisdiction
) -> AsyncIterator[httpx.AsyncClient]:
    api = UnitsApi(InMemoryTokenVerifier(TOKENS), kafka, tickets, tickets, jurisdiction, now=lambda: NOW)
    app = Starlette(routes=units_api_routes(api))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        yield http


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def action(kind: str = "sign", ticket_id: str = "T1", **fields: Any) -> dict[str, Any]:
    return {"type": kind, "action_id": "a-1", "ticket_id": ticket_id, "acted_at": NOW.isoformat(), **fields}


async def test_a_unit_lists_the_orders_it_holds_with_the_caller_masked(
    client: httpx.AsyncClient, tickets: InMemoryTickets
) -> None:
    response = await client.get("/api/units/me/orders?limit=1", headers=bearer("zjj-token"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["unit"], body["truncated"], len(body["orders"])) == ("zjj", True, 1)
    order = body["orders"][0]
    assert (order["ticket_id"], order["role"], order["note"]) == ("T1", "lead", "dispatched")
    assert order["caller"] == {"name": "向**", "phone": "189****5216"}
    assert PHONE not in response.text and "向建国" not in response.text
    assert tickets.asked == [("zjj", 2)]


@pytest.mark.parametrize("limit", ["0", "1001", "ten"])
async def test_an_out_of_range_limit_is_422(client: httpx.AsyncClient, limit: str) -> None:
    response = await client.get(f"/api/units/me/orders?limit={limit}", headers=bearer("zjj-token"))
    assert (response.status_code, response.json()["error"]) == (422, "invalid_limit")


async def test_a_units_action_goes_to_its_own_topic_as_sent(
    client: httpx.AsyncClient, kafka: InMemoryPublisher
) -> None:
    response = await client.post(
        "/api/units/me/orders/T1/actions", json=action(), headers=bearer("zjj-token")
    )
    assert response.status_code == 202, response.text
    assert response.json() == {"ticket_id": "T1", "action_id": "a-1", "command_id": "unit:zjj:a-1"}
    [(unit, sent)] = kafka.actions
    assert (unit, sent.type, sent.ticket_id, sent.acted_at) == ("zjj", "sign", "T1", NOW)


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({}, "unauthenticated"),
        ({"Authorization": "Basic empqOng="}, "unauthenticated"),
        (bearer("stolen"), "invalid_token"),
    ],
)
async def test_no_known_token_is_401_and_nothing_is_sent(
    client: httpx.AsyncClient, kafka: InMemoryPublisher, headers: dict[str, str], error: str
) -> None:
    for response in (
        await client.get("/api/units/me/orders", headers=headers),
        await client.post("/api/units/me/orders/T1/actions", json=action(), headers=headers),
        await client.post("/api/control/tickets/T1/dispatch", json=DISPATCH, headers=headers),
    ):
        assert (response.status_code, response.json()["error"]) == (401, error)
        assert response.headers["www-authenticate"] == 'Bearer realm="shaobao"'
    assert (kafka.actions, kafka.commands) == ([], [])


@pytest.mark.parametrize(
    ("token", "path", "error"),
    [
        ("desk-token", "/api/units/me/orders/T1/actions", "forbidden"),
        ("zjj-token", "/api/control/tickets/T1/dispatch", "forbidden"),
        ("desk-token", "/api/control/tickets/T1/judge-unreasonable", "forbidden"),
        ("nowhere-token", "/api/units/me/orders/T1/actions", "unknown_unit"),
    ],
)
async def test_a_token_used_beyond_its_role_is_403_and_nothing_is_sent(
    client: httpx.AsyncClient, kafka: InMemoryPublisher, token: str, path: str, error: str
) -> None:
    response = await client.post(path, json={"reason": "x", **action()}, headers=bearer(token))
    assert (response.status_code, response.json()["error"]) == (403, error)
    assert (kafka.actions, kafka.commands) == ([], [])


async def test_an_invalid_action_is_422_naming_its_fields_without_echoing_them(
    client: httpx.AsyncClient, kafka: InMemoryPublisher
) -> None:
    body = action("complete", acted_at="2026-03-02T09:00:00", reply="", unit="zjj")
    response = await client.post("/api/units/me/orders/T1/actions", json=body, headers=bearer("zjj-token"))
    assert response.status_code == 422
    answer = response.json()
    assert answer["error"] == "invalid_action"
    assert sorted(f["field"] for f in answer["fields"]) == [
        "complete.acted_at",
        "complete.reply",
        "complete.unit",
    ]
    mismatch = await client.post(
        "/api/units/me/orders/T2/actions", json=action(), headers=bearer("zjj-token")
    )
    assert (mismatch.status_code, mismatch.json()["error"]) == (422, "ticket_mismatch")
    unreadable = await client.post(
        "/api/units/me/orders/T1/actions", content=b"{", headers=bearer("zjj-token")
    )
    assert (unreadable.status_code, unreadable.json()["error"]) == (400, "invalid_json")
    assert kafka.actions == []


async def test_a_control_room_dispatch_carries_the_person_and_role_of_the_token(
    client: httpx.AsyncClient, kafka: InMemoryPublisher
) -> None:
    response = await client.post(
        "/api/control/tickets/T1/dispatch",
        json=DISPATCH,
        headers={**bearer("desk-token"), "Idempotency-Key": "k1"},
    )
    assert response.status_code == 202, response.text
    [command] = kafka.commands
    assert isinstance(command, DispatchTicket)
    assert (command.ticket_id, command.lead, command.co, command.operator, command.role) == (
        "T1",
        "zjj",
        ("baimaqiao",),
        "王坐席",
        "control_room",
    )
    assert command.issued_at == NOW
    assert response.json() == {"ticket_id": "T1", "command_id": command.command_id, "type": "dispatch_ticket"}


async def test_a_retried_request_is_the_same_command_and_a_new_key_a_new_one(
    client: httpx.AsyncClient, kafka: InMemoryPublisher
) -> None:
    desk = bearer("desk-token")
    for headers in ({**desk, "Idempotency-Key": "k1"}, {**desk, "Idempotency-Key": "k1"}, desk, desk):
        response = await client.post("/api/control/tickets/T1/dispatch", json=DISPATCH, headers=headers)
        assert response.status_code == 202
    ids = [c.command_id for c in kafka.commands]
    assert ids[0] == ids[1] and ids[2] == ids[3] and ids[0] != ids[2]
    other = await client.post(
        "/api/control/tickets/T1/dispatch", json=DISPATCH, headers={**desk, "Idempotency-Key": "k2"}
    )
    assert other.json()["command_id"] not in ids


async def test_the_supervisor_judges_a_demand_unreasonable(
    client: httpx.AsyncClient, kafka: InMemoryPublisher
) -> None:
    response = await client.post(
        "/api/control/tickets/T1/judge-unreasonable",
        json={"reason": "诉求超出政策范围"},
        headers=bearer("boss-token"),
    )
    assert response.status_code == 202, response.text
    [command] = kafka.commands
    assert isinstance(command, JudgeUnreasonable)
    assert (command.role, command.operator, command.reason) == ("supervisor", "李主任", "诉求超出政策范围")


async def test_a_merge_takes_the_source_tickets_appeal_and_an_unknown_source_is_404(
    client: httpx.AsyncClient, kafka: InMemoryPublisher, tickets: InMemoryTickets
) -> None:
    desk = bearer("desk-token")
    response = await client.post(
        "/api/control/tickets/T1/merge", json={"source_ticket_id": "T2"}, headers=desk
    )
    assert response.status_code == 202, response.text
    [command] = kafka.commands
    assert isinstance(command, MergeAppeal)
    assert (command.source_ticket_id, command.source_appeal) == ("T2", tickets.states["T2"].appeal)
    missing = await client.post(
        "/api/control/tickets/T1/merge", json={"source_ticket_id": "T9"}, headers=desk
    )
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
    assert len(kafka.commands) == 1


async def test_invalid_commands_and_keys_are_422(client: httpx.AsyncClient, kafka: InMemoryPublisher) -> None:
    desk = bearer("desk-token")
    bad = await client.post(
        "/api/control/tickets/T1/dispatch", json={"co": [], "operator": "x"}, headers=desk
    )
    assert (bad.status_code, bad.json()["error"]) == (422, "invalid_command")
    assert sorted(f["field"] for f in bad.json()["fields"]) == ["lead", "operator"]
    key = await client.post(
        "/api/control/tickets/T1/dispatch", json=DISPATCH, headers={**desk, "Idempotency-Key": "a b"}
    )
    assert (key.status_code, key.json()["error"]) == (422, "invalid_idempotency_key")
    assert kafka.commands == []


async def test_kafka_not_acknowledging_is_503_with_retry_after(
    client: httpx.AsyncClient, kafka: InMemoryPublisher
) -> None:
    kafka.down = True
    response = await client.post(
        "/api/units/me/orders/T1/actions", json=action(), headers=bearer("zjj-token")
    )
    assert (response.status_code, response.json()["error"]) == (503, "publish_unavailable")
    assert response.headers["retry-after"] == "5"


def test_only_the_supervisor_may_judge_and_no_unit_may_command() -> None:
    with pytest.raises(Forbidden, match="role control_room may not judge unreasonable"):
        may_command(Principal("王坐席", "control_room"), JudgeUnreasonable)
    with pytest.raises(Forbidden, match="a unit's token cannot give control-room commands"):
        may_command(Principal("zjj", "unit"), DispatchTicket)
    may_command(Principal("李主任", "supervisor"), JudgeUnreasonable)


def test_command_ids_are_scoped_by_holder_ticket_and_key() -> None:
    def command_id(who: Principal, ticket_id: str = "T1", key: str = "k") -> str:
        return control_command(who, DispatchTicket, ticket_id, {"lead": "zjj"}, key, NOW).command_id

    desk, other = Principal("王坐席", "control_room"), Principal("赵坐席", "control_room")
    assert command_id(desk) == command_id(desk)
    assert command_id(desk).startswith("http:control_room:王坐席:")
    assert len({command_id(desk), command_id(other), command_id(desk, "T2"), command_id(desk, key="k2")}) == 4
    body = CONTROL_BY_PATH["dispatch"].request.model_validate(DISPATCH)
    assert body_key(body) == body_key(CONTROL_BY_PATH["dispatch"].request.model_validate(DISPATCH))


def test_a_request_body_is_its_command_less_what_the_api_fills_in() -> None:
    filled_in = {"schema_version", "type", "command_id", "ticket_id", "issued_at", "operator", "role"}
    for endpoint in CONTROL_ENDPOINTS:
        looked_up = {"source_appeal"} if endpoint.path == "merge" else set()
        own = set(endpoint.request.model_fields)
        assert own == set(endpoint.command.model_fields) - filled_in - looked_up, endpoint.path
    assert sorted(CONTROL_BY_PATH["dispatch"].request.model_fields) == ["category", "co", "lead", "town"]
    assert sorted(CONTROL_BY_PATH["merge"].request.model_fields) == ["score", "source_ticket_id"]
    assert sorted(CONTROL_BY_PATH["confidential"].request.model_fields) == ["reason"]
    assert len(CONTROL_ENDPOINTS) == 11


async def test_the_openapi_document_is_valid_3_1_served_and_published(client: httpx.AsyncClient) -> None:
    document = openapi_document()
    validate(document)  # raises on an invalid OpenAPI 3.1 document
    assert document["openapi"] == "3.1.0"
    paths = document["paths"]
    kb = {"/api/units/me/kb", "/api/units/me/kb/{entry_id}", "/api/units/me/kb/{entry_id}/versions"}
    assert set(paths) == {"/api/units/me/orders", "/api/units/me/orders/{ticket_id}/actions"} | kb | {
        f"/api/control/tickets/{{ticket_id}}/{e.path}" for e in CONTROL_ENDPOINTS
    }
    assert sorted(paths["/api/units/me/kb/{entry_id}"]) == ["delete", "put"]
    assert sorted(paths["/api/units/me/kb/{entry_id}"]["put"]["responses"]) == [
        "200",
        "201",
        "401",
        "403",
        "422",
        "503",
    ]
    act = paths["/api/units/me/orders/{ticket_id}/actions"]["post"]
    assert act["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/UnitAction"
    }
    assert sorted(act["responses"]) == ["202", "401", "403", "422", "503"]
    served = await client.get("/api/openapi.json")
    assert served.status_code == 200 and served.json() == json.loads(openapi_json())
    assert contract_cli.expected_files()["openapi.json"] == openapi_json()
    assert "openapi.json" not in contract_cli.stale_files(contract_cli.expected_files())
