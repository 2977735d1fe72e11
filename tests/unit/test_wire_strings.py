"""The contract refuses what the store cannot hold, in every string of every payload: C0 controls
but tab, LF and CR, lone surrogates, U+FFFE and U+FFFF, nested in models, lists, tuples and
dicts (keys too), each named by its field's path; and every surface answers it clearly."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.access import Principal
from domain.jurisdiction import Jurisdiction
from infra.verify import decode_events
from schemas.actions import UNIT_ACTION
from schemas.alerts import Alert
from schemas.appeal import Appeal
from schemas.base import WireModel, refused_character, validate_json
from schemas.events import TICKET_EVENT
from schemas.http_api import CONTROL_BY_PATH
from schemas.rejections import AppealRejected
from shaobao.importers.kafka_sink import Refused, local_rejection
from shaobao.importers.sources import csv_items
from streams.codecs import IntakeRejection, decode_appeal, decode_command
from tests.fakes import InMemoryPublisher, InMemoryTickets, InMemoryTokenVerifier
from web.api.intake import intake_routes
from web.api.intake_keys import IntakeGate
from web.api.units import UnitsApi, units_api_routes
from web.open311.routes import open311_routes
from web.room.routes import ControlRoom, DispatchRequest, _dispatch
from web.throttle import RateLimit

NOW = datetime(2026, 3, 2, 1, 15, tzinfo=UTC)
# The refused set as issue 13 states it, written out rather than taken from the regex.
REFUSED = [
    *range(0x00, 0x09),
    0x0B,
    0x0C,
    *range(0x0E, 0x20),
    *range(0xD800, 0xE000),
    0xFFFE,
    0xFFFF,
]
ALLOWED = ["\t", "\n", "\r", "\x7f", "\x85", "😀", "𠮷", "路灯", "\u200b", "\ue000", "\ufffd", "\U0010ffff"]
APPEAL = {
    "channel": "phone",
    "source_id": "s-1",
    "received_at": "2026-03-02T09:15:00+08:00",
    "text": "凤凰城小区门口下水道堵塞",
    "address": "凤凰城小区",
    "caller": {"name": "向先生", "phone": "18939595216"},
}
TRIAGE = {
    "appeal_type": "help",
    "category": "drainage.sewer",
    "urgency": "normal",
    "town": "baimaqiao",
    "disposition": "dispatch",
    "lead": "zjj",
    "co": ["baimaqiao"],
    "confidence": 0.9,
}
ACTED = {"action_id": "a-1", "ticket_id": "T1", "acted_at": NOW.isoformat()}


def kind_of(code: int) -> str:
    return "控制字符" if code < 0x20 else "非字符" if code >= 0xFFFE else "孤立代理字符"


def appeal_with(**fields: Any) -> dict[str, Any]:
    return {**APPEAL, **fields}


def received_with(appeal: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "ticket_received",
        "event_id": "T1:1",
        "ticket_id": "T1",
        "version": 1,
        "occurred_at": NOW.isoformat(),
        "command_id": "c-1",
        "appeal": appeal,
        "triage": TRIAGE,
    }


def alert_with(details: dict[str, str]) -> dict[str, Any]:
    base = {"alert_id": "a", "kind": "at_risk", "severity": "warning", "message": "m"}
    return {**base, "raised_at": NOW.isoformat(), "details": details}


# (what validates, a payload with `s` at one place, the path that place is named by)
Case = tuple[Callable[[Any], object], Callable[[str], Any], tuple[str | int, ...]]
CASES: dict[str, Case] = {
    "appeal text": (Appeal.model_validate, lambda s: appeal_with(text=f"路灯{s}坏了"), ("text",)),
    "appeal caller name": (
        Appeal.model_validate,
        lambda s: appeal_with(caller={"name": f"向先{s}", "phone": None}),
        ("caller", "name"),
    ),
    "event appeal address": (
        TICKET_EVENT.validate_python,
        lambda s: received_with(appeal_with(address=f"凤凰{s}城")),
        ("ticket_received", "appeal", "address"),
    ),
    "progress note": (
        UNIT_ACTION.validate_python,
        lambda s: {"type": "note_progress", **ACTED, "note": f"已到{s}现场"},
        ("note_progress", "note"),
    ),
    "whistled unit in a tuple": (
        UNIT_ACTION.validate_python,
        lambda s: {"type": "whistle", **ACTED, "units": ["cgj", f"zj{s}j"], "reason": "需执法"},
        ("whistle", "units", 1),
    ),
    "alert detail in a dict": (
        Alert.model_validate,
        lambda s: alert_with({"why": f"超期{s}了"}),
        ("details", "why"),
    ),
    "control-room request co list": (
        CONTROL_BY_PATH["dispatch"].request.model_validate,
        lambda s: {"lead": "zjj", "co": [f"ba{s}i"]},
        ("co", 0),
    ),
}


def test_the_refused_set_is_exactly_the_one_issue_13_names() -> None:
    found = [code for code in range(0x110000) if refused_character(chr(code)) is not None]
    assert found == REFUSED
    assert len(found) == 9 + 2 + 18 + 2048 + 2


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_refused_character_is_refused_with_its_fields_path(case: str) -> None:
    validate, build, path = CASES[case]
    for code in REFUSED:
        with pytest.raises(ValidationError) as caught:
            validate(build(chr(code)))
        errors = caught.value.errors()
        assert [(e["type"], e["loc"]) for e in errors] == [("unstorable_character", path)], hex(code)
        assert errors[0]["msg"] == f"含有无法保存的{kind_of(code)} U+{code:04X}（第 3 个字符）", hex(code)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("allowed", ALLOWED, ids=[f"U+{ord(a[0]):04X}" for a in ALLOWED])
def test_tab_line_ends_del_nel_emoji_and_cjk_pass_as_sent(case: str, allowed: str) -> None:
    validate, build, path = CASES[case]
    sent = build(allowed)
    kept = validate(sent)
    assert isinstance(kept, BaseModel)
    # The value at the error's path, less a union's tag: as sent, character for character.
    at_path: Any = sent
    got: Any = kept.model_dump()
    for step in path[1:] if path[0] not in got else path:
        at_path, got = at_path[step], got[step]
    assert allowed in got and got == at_path


def test_a_dict_key_is_checked_and_named_escaped() -> None:
    with pytest.raises(ValidationError) as caught:
        Alert.model_validate(alert_with({"ok": "x", "b\x00d": "y"}))
    [error] = caught.value.errors()
    assert (error["type"], error["loc"]) == ("unstorable_character", ("details", "b\\u0000d", "[key]"))
    assert error["msg"] == "含有无法保存的控制字符 U+0000（第 2 个字符）"


def test_each_field_is_named_once_at_its_first_refused_character() -> None:
    with pytest.raises(ValidationError) as caught:
        Appeal.model_validate(appeal_with(text="a\x01b\x02", address="\uffff"))
    assert [(e["loc"], e["msg"]) for e in caught.value.errors()] == [
        (("text",), "含有无法保存的控制字符 U+0001（第 2 个字符）"),
        (("address",), "含有无法保存的非字符 U+FFFF（第 1 个字符）"),
    ]


def test_every_model_of_the_contract_and_every_http_request_is_a_wire_model() -> None:
    from pydantic import BaseModel

    import schemas.actions
    import schemas.alerts
    import schemas.clusters
    import schemas.commands
    import schemas.events
    import schemas.http_api
    import schemas.limits
    import schemas.orders
    import schemas.reference
    import schemas.rejections
    import schemas.triage

    modules = [
        schemas.actions,
        schemas.alerts,
        schemas.clusters,
        schemas.commands,
        schemas.events,
        schemas.http_api,
        schemas.limits,
        schemas.orders,
        schemas.reference,
        schemas.rejections,
        schemas.triage,
    ]
    models = {
        value
        for module in modules
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, BaseModel) and value is not BaseModel
    }
    models |= {endpoint.request for endpoint in CONTROL_BY_PATH.values()} | {DispatchRequest}
    assert len(models) > 60
    assert sorted(m.__name__ for m in models if not issubclass(m, WireModel)) == []


def _outcome(decode: Callable[[bytes], object], data: bytes) -> object:
    try:
        return decode(data)
    except ValidationError as exc:
        return [(e["type"], e["loc"], e["msg"]) for e in exc.errors()]


JSON_CASES = {name: case for name, case in CASES.items() if name in ("event appeal address", "progress note")}


@pytest.mark.parametrize("case", sorted(JSON_CASES))
@pytest.mark.parametrize("ascii_only", [True, False])
def test_the_log_readers_fast_decode_answers_every_string_as_the_plain_one(
    case: str, ascii_only: bool
) -> None:
    validate, build, _ = JSON_CASES[case]
    adapter = TICKET_EVENT if case.startswith("event") else UNIT_ACTION
    fast = 0
    for text in [*map(chr, REFUSED), *ALLOWED, "\\u", "\\b路", "C:\\f", "\ufffe\ufeff"]:
        data = json.dumps(build(text), ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
        fast += b"\\" not in data and b"\xef\xbf" not in data  # no look at each string then
        plain = _outcome(adapter.validate_json, data)
        assert _outcome(lambda raw: validate_json(adapter, raw), data) == plain, (text, data)
        if text in ALLOWED:
            assert isinstance(plain, BaseModel)
    assert fast >= (0 if ascii_only else 8)


# Kafka intake and the commands' decoder ------------------------------------------------


def test_kafka_intake_rejects_a_nul_as_a_schema_violation_naming_the_field_and_place() -> None:
    raw = json.dumps(appeal_with(text="凤凰城小区门口下水道堵\u0000塞"), ensure_ascii=False).encode()
    with pytest.raises(IntakeRejection) as caught:
        decode_appeal(raw, b"phone:s-1", NOW)
    assert (caught.value.reason, caught.value.message) == (
        "schema_violation",
        "text: 含有无法保存的控制字符 U+0000（第 12 个字符）",
    )


def test_kafka_intake_rejects_a_lone_surrogate_escape_naming_it() -> None:
    raw = b'{"channel": "phone", "source_id": "s-1", "received_at": "2026-03-02T09:15:00+08:00", '
    raw += b'"text": "\\u8def\\ud800", "caller": {"name": "\\udfff"}}'
    with pytest.raises(IntakeRejection) as caught:
        decode_appeal(raw, None, NOW)
    assert (caught.value.reason, caught.value.message) == (
        "schema_violation",
        "text: 含有无法保存的孤立代理字符 U+D800（第 2 个字符）; "
        "caller.name: 含有无法保存的孤立代理字符 U+DFFF（第 1 个字符）",
    )


def test_an_unknown_json_name_holding_a_nul_is_named_escaped_in_the_message() -> None:
    raw = json.dumps(appeal_with(**{"no\u0000te": "x"})).encode()
    with pytest.raises(IntakeRejection) as caught:
        decode_appeal(raw, None, NOW)
    assert caught.value.message == "no\\u0000te: Extra inputs are not permitted"


def test_a_command_with_a_control_character_in_json_is_refused() -> None:
    command = {
        "type": "note_progress",
        "command_id": "unit:zjj:a-1",
        "ticket_id": "T1",
        "issued_at": NOW.isoformat(),
        "unit": "zjj",
        "action_id": "a-1",
        "note": "到达\u0007现场",
    }
    with pytest.raises(ValidationError) as caught:
        decode_command(json.dumps(command).encode())
    assert [(e["type"], e["loc"]) for e in caught.value.errors()] == [
        ("unstorable_character", ("note_progress", "note"))
    ]


# HTTP: intake, the units' and control room's API, Open311, the room ---------------------


TOKENS = InMemoryTokenVerifier(
    {
        "zjj": Principal("zjj", "unit"),
        "desk": Principal("王坐席", "control_room"),
        "portal": Principal("web:portal", "intake"),
    }
)


class ManualTicket:
    """The room's live view holding ticket T1 in the manual queue."""

    class _View:
        def __init__(self) -> None:
            from domain.ticket import TicketStatus

            held = type("Held", (), {"state": type("State", (), {"status": TicketStatus.MANUAL})()})()
            self.tickets = {"T1": held}

    def __init__(self) -> None:
        self.view = self._View()

    def now(self) -> datetime:
        return NOW


@pytest.fixture
def publisher() -> InMemoryPublisher:
    return InMemoryPublisher()


@pytest.fixture
async def http(publisher: InMemoryPublisher, jurisdiction: Jurisdiction) -> AsyncIterator[httpx.AsyncClient]:
    tickets = InMemoryTickets()
    api = UnitsApi(TOKENS, publisher, tickets, tickets, jurisdiction, now=lambda: NOW)
    room = ControlRoom(ManualTicket(), None, None, publisher, jurisdiction)  # type: ignore[arg-type]

    async def dispatch_as(request: Request) -> Response:
        operator = request.query_params.get("operator", "张值班")
        return await _dispatch(room, request, Principal(operator, "control_room"))

    gate = IntakeGate(TOKENS, RateLimit(per_key=1000, per_address=1000))
    reads = RateLimit(per_address=1000)
    routes = [
        *intake_routes(publisher, tickets, jurisdiction, gate, now=lambda: NOW),
        *units_api_routes(api),
        Route(
            "/open311/v2/requests.{format}",
            open311_routes(publisher, tickets, jurisdiction, gate, reads)[3].endpoint,
            methods=["POST"],
        ),
        Route("/room/{ticket_id}/dispatch", dispatch_as, methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://t",
        headers={"Authorization": "Bearer portal"},
    ) as client:
        yield client


async def test_http_intake_answers_a_nul_with_400_naming_the_field(
    http: httpx.AsyncClient, publisher: InMemoryPublisher
) -> None:
    body = {key: value for key, value in appeal_with(channel="web").items() if key != "received_at"}
    body["caller"] = {"name": "向\u0000先生"}
    response = await http.post("/api/appeals", json=body)
    assert response.status_code == 400
    answer = response.json()
    assert answer["error"] == "unstorable_characters"
    assert answer["fields"] == [
        {
            "field": "caller.name",
            "message": "含有无法保存的控制字符 U+0000（第 2 个字符）",
            "type": "unstorable_character",
        }
    ]
    assert publisher.sent == 0
    other = await http.post("/api/appeals", json={**body, "caller": {}, "channel": "fax"})
    assert other.status_code == 422  # a value to correct stays 422


async def test_a_units_progress_note_with_a_nul_is_400_naming_the_field_and_nothing_is_sent(
    http: httpx.AsyncClient, publisher: InMemoryPublisher
) -> None:
    action = {"type": "note_progress", **ACTED, "note": "已到现场\u0000"}
    response = await http.post(
        "/api/units/me/orders/T1/actions", json=action, headers={"Authorization": "Bearer zjj"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "unstorable_characters",
        "message": response.json()["message"],
        "fields": [
            {
                "field": "note_progress.note",
                "message": "含有无法保存的控制字符 U+0000（第 5 个字符）",
                "type": "unstorable_character",
            }
        ],
    }
    assert publisher.sent == 0


async def test_a_control_room_command_with_a_refused_character_is_400(
    http: httpx.AsyncClient, publisher: InMemoryPublisher
) -> None:
    desk = {"Authorization": "Bearer desk"}
    response = await http.post(
        "/api/control/tickets/T1/rework", json={"reason": "请\ufffe重办"}, headers=desk
    )
    assert (response.status_code, response.json()["error"]) == (400, "unstorable_characters")
    assert [f["field"] for f in response.json()["fields"]] == ["reason"]
    in_path = await http.post("/api/control/tickets/T%001/close", json={"reason": "已办结"}, headers=desk)
    assert (in_path.status_code, [f["field"] for f in in_path.json()["fields"]]) == (400, ["ticket_id"])
    mismatch = await http.post(
        "/api/units/me/orders/T%00/actions",
        json={"type": "sign", **ACTED},
        headers={"Authorization": "Bearer zjj"},
    )
    assert mismatch.status_code == 422
    assert mismatch.json()["message"] == "the body's ticket_id T1 is not the path's T\\u0000"
    assert publisher.sent == 0


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_open311_answers_a_control_character_with_400_in_its_own_error_form(
    http: httpx.AsyncClient, publisher: InMemoryPublisher, fmt: str
) -> None:
    form = {"service_code": "drainage.sewer", "description": "下水道\x0b堵塞"}
    response = await http.post(f"/open311/v2/requests.{fmt}", data=form)
    assert response.status_code == 400
    description = "description: 含有无法保存的控制字符 U+000B（第 4 个字符）"
    if fmt == "json":
        assert response.json() == [{"code": 400, "description": description}]
    else:
        assert f"<error><code>400</code><description>{description}</description></error>" in response.text
    assert publisher.sent == 0


async def test_the_room_answers_a_refused_character_with_400_naming_the_field(
    http: httpx.AsyncClient, publisher: InMemoryPublisher
) -> None:
    response = await http.post(
        "/room/T1/dispatch", json={"lead": "zjj", "town": "bai\x1bmaqiao", "version": 3}
    )
    assert response.status_code == 400
    assert response.json() == {"error": "派单请求无效：town: 含有无法保存的控制字符 U+001B（第 4 个字符）"}
    operator = await http.post("/room/T1/dispatch?operator=%E5%BC%A0%01", json={"lead": "zjj", "version": 3})
    assert operator.status_code == 400
    assert operator.json() == {
        "error": "派单请求无效：command_id: 含有无法保存的控制字符 U+0001（第 20 个字符）；"
        "operator: 含有无法保存的控制字符 U+0001（第 2 个字符）"
    }
    assert publisher.sent == 0
    fine = await http.post("/room/T1/dispatch", json={"lead": "zjj", "version": 3})
    assert fine.status_code == 202 and publisher.sent == 1


# The importers --------------------------------------------------------------------------


def test_a_csv_row_with_a_control_character_is_refused_naming_its_column_and_kept_in_base64(
    tmp_path: Path,
) -> None:
    header = "工单编号,来电时间,诉求内容,来电号码,来电人,地址,渠道\n"
    good = "LG-1,2025-12-01 09:15:00,路灯坏了，请修理。,13807311234,曹女士,玉潭街道,电话\n"
    bad = "LG-2,2025-12-01 09:20:00,路灯\x01坏了,13807311234,曹女士,玉潭街道,电话\n"
    path = tmp_path / "legacy.csv"
    path.write_bytes((header + good + bad).encode())
    _, _, items = csv_items(path, "Asia/Shanghai", NOW)
    assert [type(item).__name__ for item in items] == ["ReadAppeal", "Refused"]
    refused = items[1]
    assert isinstance(refused, Refused)
    assert (refused.reason, refused.message) == (
        "invalid_field",
        "诉求内容: 含有无法保存的控制字符 U+0001（第 3 个字符）",
    )
    rejection = local_rejection(refused, NOW)
    assert (
        rejection.message == "invalid_field: line 3: 诉求内容: 含有无法保存的控制字符 U+0001（第 3 个字符）"
    )
    assert rejection.original_encoding == "base64"
    assert base64.b64decode(rejection.original) == (header + bad).encode()
    assert rejection.original_sha256 == hashlib.sha256((header + bad).encode()).hexdigest()
    assert (rejection.key, rejection.key_encoding) == ("phone:legacy:LG-2", "utf-8")
    assert AppealRejected.model_validate_json(rejection.model_dump_json()) == rejection


def test_a_refused_mail_with_a_control_character_is_a_rejection_naming_the_field(tmp_path: Path) -> None:
    from shaobao.importers.sources import mail_item

    letter = (
        "Message-ID: <m-1@mail.163.com>\r\nFrom: =?utf-8?b?5ZGo5bu65Zu9?= <z@163.com>\r\n"
        "Subject: =?utf-8?b?6Lev54Gv5Z2P5LqG?=\r\nDate: Mon, 2 Mar 2026 09:15:00 +0800\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n小区东门\x0c外的路灯坏了\r\n"
    ).encode()
    path = tmp_path / "bad.eml"
    path.write_bytes(letter)
    item = mail_item(path, "Asia/Shanghai", NOW)
    assert isinstance(item, Refused)
    assert (item.reason, item.message) == (
        "invalid_field",
        "text: 含有无法保存的控制字符 U+000C（第 10 个字符）",
    )
    rejection = local_rejection(item, NOW)
    assert (rejection.original_encoding, rejection.original_length) == ("base64", len(letter))
    assert base64.b64decode(rejection.original) == letter
    assert rejection.key == "mailbox:m-1@mail.163.com"


def test_a_log_record_with_no_value_is_no_event_to_the_fast_decode_as_to_the_plain_one() -> None:
    # A tombstone (a broken writer's null value) on `tickets.events`: `verify` and `replay`
    # count it as no ticket event, as they did before the fast path.
    assert _outcome(lambda raw: validate_json(TICKET_EVENT, raw), None) == _outcome(  # type: ignore[arg-type]
        TICKET_EVENT.validate_json,
        None,  # type: ignore[arg-type]
    )
    assert decode_events([None, b"{}"]) == ([], 2)  # type: ignore[list-item]
