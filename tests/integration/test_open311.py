"""Open311 GeoReport v2 on the real pipeline, driven the way a stock client drives it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from functools import partial
from typing import Any
from xml.etree import ElementTree as ET

import asyncpg
import pytest

from domain.jurisdiction import Jurisdiction
from tests.integration.conftest import Stack
from tests.integration.kafkatools import eventually, read_all
from tests.integration.webtools import Web, intake_key, running_web

pytestmark = pytest.mark.integration
BASE = "/open311/v2"
PHONE = "18939595216"
SEWER_TEXT = "白马桥街道凤凰城小区门口下水道堵塞，污水外溢到路面，臭味很大，请相关部门疏通。"


CLIENT = "cityapp"
KEYS: dict[str, str] = {}


@pytest.fixture(scope="module")
async def web(stack: Stack) -> AsyncIterator[Web]:
    KEYS["web"] = await intake_key(stack.settings, "web", CLIENT)
    async with running_web(stack.settings) as running:
        yield running


def form(**overrides: str) -> dict[str, str]:
    """A stock client's POST: the spec's fields, with the city app's key as `api_key`."""
    return {
        "api_key": KEYS["web"],
        "jurisdiction_id": "sample-county",
        "service_code": "drainage.sewer",
        "description": f"{SEWER_TEXT}请回电{PHONE}",
        "address_string": "凤凰城小区",
        "lat": "28.1301",
        "long": "112.5702",
        "first_name": "德华",
        "last_name": "向",
        "phone": PHONE,
        "email": "xiang@example.org",
        **overrides,
    }


async def post_request(web: Web, fields: dict[str, str], headers: dict[str, str] | None = None) -> str:
    """POST form-encoded, as the spec says; returns the token."""
    response = await web.client.post(f"{BASE}/requests.json", data=fields, headers=headers)
    assert response.status_code == 200, response.text
    [created] = response.json()
    assert set(created) == {"token", "service_notice"}
    token: str = created["token"]
    return token


async def dispatched_request(web: Web, token: str) -> dict[str, Any] | None:
    """Polls GET requests/{token}: 404 until the pipeline has opened the ticket."""
    response = await web.client.get(f"{BASE}/requests/{token}.json")
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    [request] = response.json()
    found: dict[str, Any] = request
    return found if found["status_notes"].startswith("已派单") else None


def xml_root(text: str, root: str) -> ET.Element:
    element = ET.fromstring(text.encode())  # noqa: S314 - our own response
    assert element.tag == root
    return element


async def test_services_list_every_category_in_json_and_xml(web: Web, jurisdiction: Jurisdiction) -> None:
    as_json = await web.client.get(f"{BASE}/services.json")
    as_xml = await web.client.get(f"{BASE}/services.xml", params={"jurisdiction_id": "sample-county"})

    assert (as_json.status_code, as_xml.status_code) == (200, 200)
    assert as_xml.headers["content-type"] == "text/xml; charset=utf-8"
    listed = as_json.json()
    assert len(listed) == len(jurisdiction.categories) == 40
    sewer = next(s for s in listed if s["service_code"] == "drainage.sewer")
    assert sewer == {
        "service_code": "drainage.sewer",
        "service_name": "下水道堵塞污水外溢",
        "description": "下水道堵塞污水外溢（牵头单位：市住房和城乡建设局）",
        "metadata": False,
        "type": "realtime",
        "keywords": "drainage,sewer",
        "group": "市住房和城乡建设局",
    }
    root = xml_root(as_xml.text, "services")
    codes = [s.findtext("service_code") for s in root.findall("service")]
    assert codes == [s["service_code"] for s in listed]
    assert {s.findtext("metadata") for s in root.findall("service")} == {"false"}


async def test_a_service_definition_and_the_errors_for_unknown_ones(web: Web) -> None:
    definition = await web.client.get(f"{BASE}/services/drainage.sewer.json")
    as_xml = await web.client.get(f"{BASE}/services/drainage.sewer.xml")
    unknown = await web.client.get(f"{BASE}/services/no.such.json")
    unknown_xml = await web.client.get(f"{BASE}/services/no.such.xml")
    elsewhere = await web.client.get(f"{BASE}/services.json", params={"jurisdiction_id": "other-city"})

    assert definition.json() == {"service_code": "drainage.sewer", "attributes": []}
    root = xml_root(as_xml.text, "service_definition")
    assert [(e.tag, e.text) for e in root] == [("service_code", "drainage.sewer"), ("attributes", None)]
    assert (unknown.status_code, unknown.json()) == (
        404,
        [{"code": 404, "description": "service_code no.such not found"}],
    )
    error = xml_root(unknown_xml.text, "errors").find("error")
    assert error is not None and error.findtext("code") == "404"
    assert elsewhere.status_code == 404


async def test_a_stock_client_posts_a_request_and_follows_it_to_the_housing_bureau(
    web: Web, db: asyncpg.Connection
) -> None:
    token = await post_request(web, form())
    assert token.startswith(f"web:{CLIENT}.open311-")

    request = await eventually(lambda: dispatched_request(web, token))
    ticket_id = request["service_request_id"]
    assert request["status"] == "open"
    assert request["agency_responsible"] == "市住房和城乡建设局"
    assert request["status_notes"] == "已派单至市住房和城乡建设局，协办：白马桥街道"
    assert (request["service_code"], request["service_name"]) == ("drainage.sewer", "下水道堵塞污水外溢")
    assert (request["address"], request["lat"], request["long"]) == ("凤凰城小区", 28.1301, 112.5702)
    assert "expected_datetime" not in request  # no completion limit on tickets yet
    row = await db.fetchrow("SELECT channel, lead_unit, state FROM tickets WHERE ticket_id = $1", ticket_id)
    assert (row["channel"], row["lead_unit"]) == ("web", "zjj")

    listed = await web.client.get(f"{BASE}/requests.json", params={"service_request_id": ticket_id})
    assert listed.json() == [request]
    by_id = await web.client.get(f"{BASE}/requests/{ticket_id}.json")
    assert by_id.json() == [request]
    tokens = await web.client.get(f"{BASE}/tokens/{token}.json")
    assert tokens.json() == [{"service_request_id": ticket_id, "token": token}]
    as_xml = await web.client.get(f"{BASE}/requests/{ticket_id}.xml")
    [element] = xml_root(as_xml.text, "service_requests").findall("request")
    assert element.findtext("service_request_id") == ticket_id
    assert element.findtext("agency_responsible") == "市住房和城乡建设局"
    listed_xml = await web.client.get(f"{BASE}/requests.xml", params={"service_request_id": ticket_id})
    assert [r.findtext("service_request_id") for r in xml_root(listed_xml.text, "service_requests")] == [
        ticket_id
    ]
    web.assert_never_shown(PHONE)
    web.assert_never_shown("向德华")


async def test_request_filters_by_service_code_and_status(web: Web) -> None:
    token = await post_request(web, form())
    ticket_id = (await eventually(lambda: dispatched_request(web, token)))["service_request_id"]

    async def listed(**params: str) -> list[str]:
        response = await web.client.get(f"{BASE}/requests.json", params=params)
        assert response.status_code == 200, response.text
        return [r["service_request_id"] for r in response.json()]

    assert ticket_id in await listed(service_code="drainage.sewer,utility.water", status="open")
    assert ticket_id in await listed()
    assert ticket_id not in await listed(status="closed")
    assert ticket_id not in await listed(service_code="utility.water")
    assert ticket_id not in await listed(end_date="2020-01-01T00:00:00+08:00")
    bad = await web.client.get(f"{BASE}/requests.xml", params={"status": "pending"})
    assert bad.status_code == 400
    assert xml_root(bad.text, "errors").findtext("error/code") == "400"


async def test_an_idempotency_key_makes_retries_one_ticket(
    stack: Stack, web: Web, db: asyncpg.Connection
) -> None:
    headers = {"Idempotency-Key": f"retry-{uuid.uuid4().hex[:8]}"}
    token = await post_request(web, form(), headers)
    assert await post_request(web, form(), headers) == token
    _, source_id = token.split(":", 1)

    async def with_duplicate() -> asyncpg.Record | None:
        row = await db.fetchrow(
            "SELECT version FROM tickets WHERE channel = 'web' AND state->'appeal'->>'source_id' = $1",
            source_id,
        )
        return row if row is not None and row["version"] == 3 else None

    await eventually(with_duplicate)
    count = await db.fetchval(
        "SELECT count(*) FROM tickets WHERE state->'appeal'->>'source_id' = $1", source_id
    )
    assert count == 1


@pytest.mark.parametrize(
    ("fields", "code", "description"),
    [
        ({"service_code": ""}, 400, "service_code is required"),
        ({"service_code": "no.such"}, 404, "service_code no.such not found"),
        ({"lat": "28.1"}, 200, None),
        ({"long": ""}, 400, "lat and long must be sent together"),
    ],
)
async def test_a_bad_post_is_answered_in_the_spec_error_format_and_not_produced(
    stack: Stack, web: Web, fields: dict[str, str], code: int, description: str | None
) -> None:
    key = f"bad-{uuid.uuid4().hex[:8]}"
    response = await web.client.post(
        f"{BASE}/requests.json", data=form(**fields), headers={"Idempotency-Key": key}
    )
    assert response.status_code == code, response.text
    records = await read_all(stack.settings.kafka, stack.names.intake)
    produced = [k for k, _ in records if k == f"web:{CLIENT}.open311-{key}".encode()]
    if description is None:
        assert produced == [f"web:{CLIENT}.open311-{key}".encode()]
    else:
        assert response.json() == [{"code": code, "description": description}]
        assert produced == []


async def test_unknown_requests_and_tokens_are_404(web: Web) -> None:
    for path in ("requests/19990101-00-000000.json", "requests/web:open311-never.json", "tokens/web:x.xml"):
        response = await web.client.get(f"{BASE}/{path}")
        assert response.status_code == 404, path
    assert (await web.client.get(f"{BASE}/services.yaml")).status_code == 404


async def test_a_post_without_a_valid_key_is_refused_in_the_spec_format_and_not_produced(
    stack: Stack, web: Web
) -> None:
    key = f"nokey-{uuid.uuid4().hex[:8]}"
    fields = {name: value for name, value in form().items() if name != "api_key"}
    missing = await web.client.post(f"{BASE}/requests.json", data=fields, headers={"Idempotency-Key": key})
    wrong = await web.client.post(
        f"{BASE}/requests.xml", data={**fields, "api_key": "sbk_guess"}, headers={"Idempotency-Key": key}
    )
    assert (missing.status_code, missing.json()[0]["code"]) == (401, 401)
    assert missing.headers["www-authenticate"] == 'Bearer realm="shaobao-intake"'
    assert wrong.status_code == 401 and xml_root(wrong.text, "errors").findtext("error/code") == "401"
    records = await read_all(stack.settings.kafka, stack.names.intake)
    assert [k for k, _ in records if key.encode() in (k or b"")] == []


async def test_the_key_fixes_the_channel_even_for_a_device(
    web: Web, stack: Stack, db: asyncpg.Connection
) -> None:
    app_key = await intake_key(stack.settings, "app", "mobile")
    token = await post_request(web, form(api_key=app_key))
    assert token.startswith("app:mobile.open311-")
    request = await eventually(lambda: dispatched_request(web, token))
    channel = await db.fetchval(
        "SELECT channel FROM tickets WHERE ticket_id = $1", request["service_request_id"]
    )
    assert channel == "app"


async def test_the_public_listing_comes_a_page_at_a_time_and_is_counted_per_address(
    stack: Stack, web: Web
) -> None:
    tokens = [await post_request(web, form()) for _ in range(3)]
    ids = [(await eventually(partial(dispatched_request, web, t)))["service_request_id"] for t in tokens]
    first = (await web.client.get(f"{BASE}/requests.json", params={"page_size": "2"})).json()
    second = (await web.client.get(f"{BASE}/requests.json", params={"page_size": "2", "page": "2"})).json()
    assert len(first) == 2 and len(second) >= 1
    newest = [r["service_request_id"] for r in first + second][:3]
    assert newest == sorted(ids, reverse=True) or set(ids) <= {
        r["service_request_id"] for r in first + second
    }
    assert not {r["service_request_id"] for r in first} & {r["service_request_id"] for r in second}
    too_big = await web.client.get(f"{BASE}/requests.json", params={"page_size": "500"})
    assert too_big.json() == [{"code": 400, "description": "page_size must be a whole number from 1 to 200"}]

    async with running_web(replace(stack.settings, open311_reads_per_address_per_minute=2)) as limited:
        answers = [await limited.client.get(f"{BASE}/requests.json") for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert int(answers[-1].headers["retry-after"]) >= 1
