"""HTTP intake on the real pipeline: POST /api/appeals → appeals.intake → a ticket, followed by GET,
with an intake key that fixes the channel and namespaces the client's source ids."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import asyncpg
import pytest

from domain.access import Principal
from schemas.appeal import Appeal
from tests.integration.conftest import Stack
from tests.integration.kafkatools import appeal, eventually, read_all
from tests.integration.webtools import Web, intake_key, issued_token, running_web

pytestmark = pytest.mark.integration
PHONE = "18939595216"


CLIENT = "portal"


@pytest.fixture(scope="module")
async def web(stack: Stack) -> AsyncIterator[Web]:
    """The web app with the city portal's intake key (channel `web`) on every request."""
    key = await intake_key(stack.settings, "web", CLIENT)
    async with running_web(stack.settings) as running:
        running.client.headers["authorization"] = f"Bearer {key}"
        yield running


def web_appeal(**overrides: Any) -> dict[str, Any]:
    """The router's clear case (sewer at 凤凰城 → zjj with baimaqiao), from the web, with no
    received_at (the endpoint stamps it) and the caller's phone also written in the text."""
    body = appeal(**{"channel": "web", **overrides})
    del body["received_at"]
    body["text"] += f"联系电话{PHONE}"
    return body


async def intake_records(stack: Stack, key: str) -> list[bytes]:
    records = await read_all(stack.settings.kafka, stack.names.intake)
    return [value for k, value in records if k == key.encode()]


async def dispatched(web: Web, url: str) -> dict[str, Any] | None:
    """The followed ticket once dispatched; None while 404 (not yet taken in) or still received."""
    response = await web.client.get(url)
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body if body["status"] == "dispatched" else None


async def test_an_appeal_posted_over_http_becomes_a_ticket_for_the_housing_bureau(
    stack: Stack, web: Web, db: asyncpg.Connection
) -> None:
    body = web_appeal()
    posted = await web.client.post("/api/appeals", json=body)

    assert posted.status_code == 202, posted.text
    key = f"web:{CLIENT}.{body['source_id']}"
    status_url = f"/api/appeals/web/{body['source_id']}"
    assert posted.json() == {"intake_key": key, "status_url": status_url}
    assert posted.headers["location"] == status_url
    [record] = await intake_records(stack, key)
    sent = Appeal.model_validate_json(record)
    assert (sent.text, sent.caller.phone) == (body["text"], PHONE)

    ticket = await eventually(lambda: dispatched(web, status_url))
    row = await db.fetchrow(
        "SELECT ticket_id FROM tickets WHERE state->'appeal'->>'source_id' = $1",
        f"{CLIENT}.{body['source_id']}",
    )
    assert row is not None
    assert ticket == {
        "intake_key": key,
        "ticket_id": row["ticket_id"],
        "status": "dispatched",
        "lead": "zjj",
        "lead_name": "市住房和城乡建设局",
        "co": ["baimaqiao"],
        "received_at": ticket["received_at"],
        "updated_at": ticket["updated_at"],
    }
    web.assert_never_shown(PHONE)


async def test_the_same_source_id_posted_twice_makes_one_ticket(
    stack: Stack, web: Web, db: asyncpg.Connection
) -> None:
    body = web_appeal()
    first = await web.client.post("/api/appeals", json=body)
    second = await web.client.post("/api/appeals", json=body)
    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json() == second.json()

    async def with_duplicate() -> asyncpg.Record | None:
        row = await db.fetchrow(
            "SELECT ticket_id, version, state FROM tickets WHERE state->'appeal'->>'source_id' = $1",
            f"{CLIENT}.{body['source_id']}",
        )
        return row if row is not None and row["version"] == 3 else None

    row = await eventually(with_duplicate)
    assert json.loads(row["state"])["duplicates"] == 1
    count = await db.fetchval(
        "SELECT count(*) FROM tickets WHERE state->'appeal'->>'source_id' = $1",
        f"{CLIENT}.{body['source_id']}",
    )
    assert count == 1
    assert len(await intake_records(stack, f"web:{CLIENT}.{body['source_id']}")) == 2
    followed_ticket = (await web.client.get(f"/api/appeals/web/{body['source_id']}")).json()
    assert followed_ticket["ticket_id"] == row["ticket_id"]


async def test_an_invalid_appeal_is_422_listing_its_fields_and_nothing_is_produced(
    stack: Stack, web: Web
) -> None:
    body = web_appeal(caller={"name": "向先生", "phone": "1" * 50}, fax="0731-1234567")
    del body["text"]
    response = await web.client.post("/api/appeals", json=body)

    assert response.status_code == 422
    answer = response.json()
    assert answer["error"] == "invalid_appeal"
    assert sorted(f["field"] for f in answer["fields"]) == ["caller.phone", "fax", "text"]
    assert "1" * 50 not in response.text  # the submitted values are not echoed
    assert await intake_records(stack, f"web:{CLIENT}.{body['source_id']}") == []
    records = await read_all(stack.settings.kafka, stack.names.rejected)
    assert [k for k, _ in records if body["source_id"].encode() in (k or b"")] == []


@pytest.mark.parametrize(
    ("content", "status", "error"),
    [
        (b'{"channel": "web", "source_id": ', 400, "invalid_json"),
        (b'["web", "x"]', 400, "invalid_json"),
        (b"\xff\xfe", 400, "invalid_json"),
        (json.dumps({"text": "x" * (256 * 1024)}).encode(), 413, "too_large"),
    ],
)
async def test_unreadable_or_oversized_bodies_are_refused(
    web: Web, content: bytes, status: int, error: str
) -> None:
    response = await web.client.post(
        "/api/appeals", content=content, headers={"content-type": "application/json"}
    )
    assert (response.status_code, response.json()["error"]) == (status, error)


async def test_an_appeal_not_yet_known_is_404(web: Web) -> None:
    response = await web.client.get("/api/appeals/web/never-sent-1")
    assert response.status_code == 404
    assert response.json()["intake_key"] == f"web:{CLIENT}.never-sent-1"


async def test_without_a_valid_intake_key_nothing_is_taken_in_or_shown(stack: Stack, web: Web) -> None:
    body = web_appeal()
    unit_token = await issued_token(stack.settings, Principal(subject="zjj", role="unit"))
    answers = {
        "none": await web.client.post("/api/appeals", json=body, headers={"authorization": ""}),
        "unknown": await web.client.post(
            "/api/appeals", json=body, headers={"authorization": "Bearer sbk_guess"}
        ),
        "unit": await web.client.post(
            "/api/appeals", json=body, headers={"authorization": f"Bearer {unit_token}"}
        ),
    }
    assert {name: (a.status_code, a.json()["error"]) for name, a in answers.items()} == {
        "none": (401, "unauthenticated"),
        "unknown": (401, "invalid_key"),
        "unit": (403, "forbidden"),
    }
    assert answers["none"].headers["www-authenticate"] == 'Bearer realm="shaobao-intake"'
    follow = await web.client.get(f"/api/appeals/web/{body['source_id']}", headers={"authorization": ""})
    assert follow.status_code == 401
    records = await read_all(stack.settings.kafka, stack.names.intake)
    assert [k for k, _ in records if body["source_id"].encode() in (k or b"")] == []


async def test_the_key_fixes_the_channel_and_no_client_can_take_anothers_source_id(
    stack: Stack, web: Web
) -> None:
    body = web_appeal()
    mismatch = await web.client.post("/api/appeals", json={**body, "channel": "phone"})
    assert (mismatch.status_code, mismatch.json()["error"]) == (422, "invalid_appeal")
    assert [(f["field"], f["type"]) for f in mismatch.json()["fields"]] == [("channel", "channel_mismatch")]
    # A stranger with a key of its own sends the portal's id first: it lands in its own space.
    squatter = await intake_key(stack.settings, "web", "squatter")
    first = await web.client.post("/api/appeals", json=body, headers={"authorization": f"Bearer {squatter}"})
    genuine = await web.client.post("/api/appeals", json=body)
    assert (first.status_code, genuine.status_code) == (202, 202)
    assert (first.json()["intake_key"], genuine.json()["intake_key"]) == (
        f"web:squatter.{body['source_id']}",
        f"web:{CLIENT}.{body['source_id']}",
    )
    assert len(await intake_records(stack, f"web:{CLIENT}.{body['source_id']}")) == 1
    # A key of another channel may not follow this one's appeals.
    sms = await intake_key(stack.settings, "sms", "gateway")
    other = await web.client.get(
        f"/api/appeals/web/{body['source_id']}", headers={"authorization": f"Bearer {sms}"}
    )
    assert (other.status_code, other.json()["error"]) == (403, "forbidden")


async def test_requests_beyond_the_key_or_address_allowance_get_429_with_retry_after(stack: Stack) -> None:
    settings = replace(stack.settings, intake_per_key_per_minute=3, intake_per_address_per_minute=5)
    key = await intake_key(stack.settings, "web", "busy")
    other = await intake_key(stack.settings, "web", "busy2")
    async with running_web(settings) as web:
        sent = [
            await web.client.post(
                "/api/appeals", json=web_appeal(), headers={"authorization": f"Bearer {key}"}
            )
            for _ in range(4)
        ]
        assert [a.status_code for a in sent] == [202, 202, 202, 429]
        assert sent[-1].json()["error"] == "too_many_requests"
        assert 1 <= int(sent[-1].headers["retry-after"]) <= 60
        # The address's own allowance (5) is spent by the fifth request, whatever the key.
        more = [
            await web.client.post(
                "/api/appeals", json=web_appeal(), headers={"authorization": f"Bearer {other}"}
            )
            for _ in range(2)
        ]
        assert [a.status_code for a in more] == [202, 429]
        assert "this address" in more[-1].json()["message"]


async def test_no_intake_key_carries_a_desk_decision_and_nothing_is_produced(stack: Stack, web: Web) -> None:
    body = web_appeal()
    decision = {"operator": "冒充坐席", "action": "answer", "answer": {"text": "已答复"}}
    answer = await web.client.post("/api/appeals", json={**body, "desk": decision})
    assert (answer.status_code, answer.json()["error"]) == (422, "invalid_appeal")
    assert [(f["field"], f["type"]) for f in answer.json()["fields"]] == [("desk", "desk_not_allowed")]
    assert await intake_records(stack, f"web:{CLIENT}.{body['source_id']}") == []
