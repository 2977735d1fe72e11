"""What a request brings, read at the edge (`web.inputs`): one JSON body reader with its size cap,
media type and parse errors for every JSON endpoint, and path and query parameters the store
could not hold refused before any lookup; then every surface answering them, never a 500."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Mount
from starlette.types import Message

from domain.access import Principal
from domain.jurisdiction import Jurisdiction
from domain.open311 import RequestQuery
from domain.room import RoomTicket
from domain.ticket import TicketState
from schemas.actions import UnitAction
from schemas.appeal import Appeal
from schemas.base import refused_character
from schemas.commands import ControlCommand
from schemas.dead_letters import DeadLetter
from web.api.intake import intake_routes
from web.api.intake_keys import IntakeGate
from web.api.units import UnitsApi, units_api_routes
from web.inputs import InputRefused, check_parameters, parse_json, read_body, read_json
from web.open311.routes import open311_routes
from web.ports import ActionPublisher, AppealPublisher, OrderReader, RoomQueries, TicketReader, TokenVerifier
from web.room.auth import COOKIE, PasswordCredentials, RoomSessions
from web.room.live import RoomLive
from web.room.routes import ControlRoom, room_routes
from web.throttle import RateLimit

NOW = datetime(2026, 3, 2, 1, 15, tzinfo=UTC)
DEEP = b"[" * 100_000 + b"]" * 100_000
NESTED_4K = b"[" * 2000 + b"]" * 2000  # deeper than the parser's stack, under every limit
APPEAL = {
    "channel": "web",
    "source_id": "w-1",
    "text": "凤凰城小区门口下水道堵塞，污水外溢",
    "address": "凤凰城小区",
    "caller": {"name": "向先生", "phone": "18939595216"},
}


def request_of(body: bytes, headers: dict[str, str] | None = None, **scope: Any) -> Request:
    """A request whose body arrives in 1 KiB chunks; `received` counts the chunks read."""
    chunks = [body[i : i + 1024] for i in range(0, len(body), 1024)] or [b""]
    received: list[int] = []

    async def receive() -> Message:
        received.append(1)
        index = len(received) - 1
        return {"type": "http.request", "body": chunks[index], "more_body": index < len(chunks) - 1}

    raw = [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in (headers or {}).items()
    ]
    request = Request({"type": "http", "method": "POST", "headers": raw, **scope}, receive)
    request.state.received = received
    return request


def refusal(caught: pytest.ExceptionInfo[InputRefused]) -> tuple[int, str]:
    return caught.value.status, caught.value.code


# parse_json -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (DEEP, "嵌套过深"),
        (b"[" * 30_000 + b"]" * 30_000, "嵌套过深"),
        ('{"text": "路灯"}'.encode("gbk"), "不是 UTF-8 编码（第 13 个字节）"),  # 路 (C2 B7) passes as ·
        (b'{"channel": "web",', "不是合法的 JSON"),
        (b"", "不是合法的 JSON"),
        (b'\xef\xbb\xbf{"a": 1}', "不是合法的 JSON"),  # a BOM, as the intake codec refuses it
        (b'{"n": 1' + b"0" * 5000 + b"}", "无法读取"),
    ],
    ids=["nested_100k", "nested_30k", "gbk", "cut_off", "empty", "bom", "huge_integer"],
)
def test_a_body_that_is_not_json_is_400_saying_why(body: bytes, says: str) -> None:
    with pytest.raises(InputRefused) as caught:
        parse_json(body)
    assert refusal(caught) == (400, "invalid_json")
    assert says in caught.value.message


def test_json_with_every_character_the_contract_may_refuse_is_read_as_sent() -> None:
    # Refusing a NUL is the wire model's work (it names the field): the reader hands it on.
    assert parse_json('{"a": "路\\u0000灯", "b": [1, 2.5, null]}'.encode()) == {
        "a": "路\x00灯",
        "b": [1, 2.5, None],
    }


# read_json: media type and size ------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [None, "application/json", "application/json; charset=utf-8", 'Application/JSON;Charset="UTF-8"'],
)
async def test_json_is_read_when_sent_as_json_or_without_a_content_type(content_type: str | None) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    assert await read_json(request_of(b'{"lead": "zjj"}', headers)) == {"lead": "zjj"}


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=gbk",
    ],
)
async def test_a_body_sent_as_anything_but_utf8_json_is_415_and_not_read(content_type: str) -> None:
    request = request_of(b'{"lead": "zjj"}', {"Content-Type": content_type})
    with pytest.raises(InputRefused) as caught:
        await read_json(request)
    assert refusal(caught) == (415, "unsupported_media_type")
    assert request.state.received == []


async def test_a_body_announced_past_the_limit_is_413_before_a_byte_is_read() -> None:
    request = request_of(b"{}", {"Content-Length": "1025"})
    with pytest.raises(InputRefused) as caught:
        await read_body(request, 1024)
    assert refusal(caught) == (413, "too_large")
    assert caught.value.message == "请求体超过 1024 字节"
    assert request.state.received == []


async def test_a_body_streamed_past_the_limit_is_413_as_soon_as_it_passes() -> None:
    request = request_of(b"x" * 10_000)  # no Content-Length: chunked
    with pytest.raises(InputRefused) as caught:
        await read_body(request, 2048)
    assert refusal(caught) == (413, "too_large")
    assert len(request.state.received) == 3  # 3 KiB read of 10: not the rest


@pytest.mark.parametrize(
    ("declared", "status"), [("²", None), ("1" * 5000, 413), ("0000000000000002", None), ("-1", None)]
)
async def test_a_content_length_int_cannot_read_is_no_500(declared: str, status: int | None) -> None:
    request = request_of(b"{}", {"Content-Length": declared})
    if status is None:
        assert await read_body(request, 1024) == b"{}"
        return
    with pytest.raises(InputRefused) as caught:
        await read_body(request, 1024)
    assert caught.value.status == status


# check_parameters --------------------------------------------------------------------------------


def test_a_path_parameter_the_store_cannot_hold_names_nothing_that_exists() -> None:
    request = request_of(b"", path_params={"ticket_id": "T\x00 1"}, query_string=b"")
    with pytest.raises(InputRefused) as caught:
        check_parameters(request)
    assert refusal(caught) == (404, "not_found")
    assert caught.value.message == "没有这样的记录（ticket_id: 含有无法保存的控制字符 U+0000（第 2 个字符））"


@pytest.mark.parametrize(
    ("query", "named"),
    [(b"service_request_id=a%00b", "service_request_id"), (b"a%01=1", "a\\u0001"), (b"x=%ED%A0%80", None)],
)
def test_a_query_parameter_the_store_cannot_hold_is_400_naming_it(query: bytes, named: str | None) -> None:
    request = request_of(b"", path_params={}, query_string=query)
    if named is None:  # undecodable bytes arrive as U+FFFD, which the store holds
        check_parameters(request)
        return
    with pytest.raises(InputRefused) as caught:
        check_parameters(request)
    assert refusal(caught) == (400, "unstorable_characters")
    assert caught.value.message.startswith(f"{named}: 含有无法保存的控制字符")


def test_parameters_the_store_can_hold_pass() -> None:
    check_parameters(
        request_of(b"", path_params={"id": "web:路灯\t😀"}, query_string=b"status=open&q=%E8%B7%AF")
    )


# Every surface: the same answers, never a 500, nothing looked up or sent ------------------------


class Refusing(TicketReader, OrderReader, TokenVerifier, AppealPublisher, ActionPublisher, RoomQueries):
    """The store's lookups and Kafka, failing the test as PostgreSQL would fail on a NUL."""

    def __init__(self) -> None:
        self.sent: list[Any] = []  # appeals, unit actions and commands alike

    def _lookup(self, *keys: str) -> None:
        assert all(refused_character(key) is None for key in keys), keys

    async def by_ticket_id(self, ticket_id: str) -> TicketState | None:
        self._lookup(ticket_id)
        return None

    async def by_intake_key(self, channel: str, source_id: str) -> TicketState | None:
        self._lookup(channel, source_id)
        return None

    async def find(self, query: RequestQuery) -> list[TicketState]:
        self._lookup(*query.ticket_ids, *query.service_codes)
        return []

    async def held_by(self, unit: str, limit: int) -> list[TicketState]:
        return []

    async def snapshot(self, day_start: datetime) -> tuple[list[RoomTicket], Counter[str]]:
        return [], Counter()

    async def tickets(self, ticket_ids: Sequence[str]) -> list[RoomTicket]:
        self._lookup(*ticket_ids)
        return []

    async def timeline(self, ticket_id: str) -> list[str]:
        self._lookup(ticket_id)
        return []

    async def dead_letters(self, limit: int = 20) -> tuple[int, list[DeadLetter]]:
        return 0, []

    async def verify(self, token: str) -> Principal | None:
        return {
            "zjj": Principal("zjj", "unit"),
            "desk": Principal("王坐席", "control_room"),
            "portal": Principal("web:portal", "intake"),
        }.get(token)

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, appeal: Appeal) -> None:
        self.sent.append(appeal)

    async def publish_action(self, unit: str, action: UnitAction) -> None:
        self.sent.append(action)

    async def publish_command(self, command: ControlCommand) -> None:
        self.sent.append(command)


class EmptyRoom:
    class _View:
        tickets: dict[str, Any] = {}

    view = _View()

    def now(self) -> datetime:
        return NOW


@pytest.fixture
def fakes() -> Refusing:
    return Refusing()


@pytest.fixture
async def http(fakes: Refusing, jurisdiction: Jurisdiction) -> AsyncIterator[httpx.AsyncClient]:
    sessions = RoomSessions(PasswordCredentials("pw"))
    # The routes under test read only the live view's tickets and its clock: EmptyRoom stands in.
    live = cast(RoomLive, EmptyRoom())
    room = ControlRoom(live, fakes, sessions, fakes, jurisdiction)
    api = UnitsApi(fakes, fakes, fakes, fakes, jurisdiction, now=lambda: NOW)
    gate = IntakeGate(fakes, RateLimit(per_key=1000, per_address=1000))
    reads = RateLimit(per_address=1000)
    app = Starlette(
        routes=[
            *room_routes(room),
            *intake_routes(fakes, fakes, jurisdiction, gate, now=lambda: NOW),
            Mount(
                "/open311/v2", routes=open311_routes(fakes, fakes, jurisdiction, gate, reads, now=lambda: NOW)
            ),
            *units_api_routes(api),
        ]
    )
    session = await sessions.open(Principal("张值班", "control_room"))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", cookies={COOKIE: session}
    ) as client:
        yield client


UNIT, DESK = {"Authorization": "Bearer zjj"}, {"Authorization": "Bearer desk"}
INTAKE = {"Authorization": "Bearer portal"}
JSON_ENDPOINTS = [
    ("/api/appeals", INTAKE),
    ("/api/units/me/orders/T1/actions", UNIT),
    ("/api/control/tickets/T1/close", DESK),
    ("/api/room/login", {}),
    ("/api/room/tickets/T1/dispatch", {}),
    ("/open311/v2/requests.json", INTAKE),
]


@pytest.mark.parametrize(("path", "auth"), JSON_ENDPOINTS, ids=[p for p, _ in JSON_ENDPOINTS])
async def test_every_json_endpoint_answers_deep_nesting_with_400(
    http: httpx.AsyncClient, fakes: Refusing, path: str, auth: dict[str, str]
) -> None:
    response = await http.post(path, content=NESTED_4K, headers={**auth, "Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert "嵌套过深" in response.text
    assert fakes.sent == []


@pytest.mark.parametrize(("path", "auth"), JSON_ENDPOINTS[:5], ids=[p for p, _ in JSON_ENDPOINTS[:5]])
async def test_every_json_api_answers_a_form_post_with_415(
    http: httpx.AsyncClient, fakes: Refusing, path: str, auth: dict[str, str]
) -> None:
    response = await http.post(path, data={"lead": "zjj", "reason": "x"}, headers=auth)
    assert response.status_code == 415, response.text
    assert fakes.sent == []


@pytest.mark.parametrize(("path", "auth"), JSON_ENDPOINTS, ids=[p for p, _ in JSON_ENDPOINTS])
async def test_every_json_endpoint_refuses_a_body_past_its_limit_with_413(
    http: httpx.AsyncClient, fakes: Refusing, path: str, auth: dict[str, str]
) -> None:
    body = b'{"text": "' + b"x" * (256 * 1024) + b'"}'
    response = await http.post(path, content=body, headers={**auth, "Content-Type": "application/json"})
    assert response.status_code == 413, response.text
    assert fakes.sent == []


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/appeals/web/a%00b", 404),
        ("/api/room/tickets/a%00b", 404),
        ("/open311/v2/requests/a%00b.json", 404),
        ("/open311/v2/requests/a%00b.xml", 404),
        ("/open311/v2/tokens/web:a%00b.json", 404),
        ("/open311/v2/requests.json?service_request_id=a%00b", 400),
        ("/open311/v2/requests.json?service_code=a%EF%BF%BEb", 400),
        ("/open311/v2/requests.json?end_date=0001-01-05", 400),
        ("/open311/v2/requests.json?start_date=0001-01-01T00:00:00%2B08:00", 200),
        ("/open311/v2/requests.json?end_date=9999-12-31T23:00:00-05:00", 200),
        ("/api/units/me/orders?limit=%C2%B2", 422),
        ("/api/units/me/orders?limit=" + "9" * 5000, 422),
    ],
)
async def test_a_lookup_by_text_the_store_cannot_hold_is_a_clear_4xx(
    http: httpx.AsyncClient, path: str, status: int
) -> None:
    response = await http.get(path, headers=UNIT)
    assert response.status_code == status, response.text


async def test_a_cookie_holding_non_ascii_is_no_session_not_a_500(http: httpx.AsyncClient) -> None:
    response = await http.get("/api/room/me", headers={b"Cookie": f"{COOKIE}=a.1.\u00e9".encode("latin-1")})
    assert (response.status_code, response.json()) == (401, {"error": "请先登录"})


@pytest.mark.parametrize("field", ["name", "secret"])
async def test_a_login_holding_what_the_store_cannot_is_400_naming_the_field(
    http: httpx.AsyncClient, field: str
) -> None:
    body = json.dumps({"name": "张", "secret": "pw", field: "\ud800"})  # ASCII: \ud800 stays escaped
    response = await http.post("/api/room/login", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {
        "error": f"登录请求无效：{field}: 含有无法保存的孤立代理字符 U+D800（第 1 个字符）"
    }


@pytest.mark.parametrize(("ahead", "status"), [(timedelta(days=2), 422), (timedelta(hours=23), 202)])
async def test_http_intake_refuses_an_appeal_dated_ahead_as_the_intake_agent_would(
    http: httpx.AsyncClient, fakes: Refusing, ahead: timedelta, status: int
) -> None:
    body = {**APPEAL, "received_at": (NOW + ahead).isoformat()}
    response = await http.post("/api/appeals", json=body, headers=INTAKE)
    assert response.status_code == status, response.text
    if status == 422:
        assert [f["field"] for f in response.json()["fields"]] == ["received_at"]
        assert fakes.sent == []
    else:
        assert [a.received_at for a in fakes.sent] == [NOW + ahead]
