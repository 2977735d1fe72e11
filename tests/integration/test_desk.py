"""The operator's desk (坐席) on the session's real pipeline: live triage with names and the
knowledge base's answers, a caller's history by phone, and each decision put on
`appeals.intake` exactly once with the operator the session names; bad bodies put nothing."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import yaml

from domain.access import Principal
from domain.kb import entries_from_document
from infra.postgres.kb_store import AsyncpgKbStore
from infra.postgres.store import AsyncpgTicketStore
from infra.reference import load_jurisdiction
from schemas.desk import DeskAnswer, DeskDecision
from shaobao.launch import Pipeline
from shaobao.tokens_cli import run as tokens_cli
from streams.settings import Settings
from tests.integration.desktools import HOUSING_FUND, InMemoryKbSearcher, desk_appeals
from tests.integration.kafkatools import appeal, encoded, eventually, produce
from tests.integration.webtools import Web, issued_token, running_web

PASSWORD = "desk-test-口令"
OPERATOR = "张坐席"
EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "kb" / "example.yaml"
FUND = "您好，我想咨询一下住房公积金怎么提取？租房能不能提取公积金，需要带什么材料？"
FUMES = "我要投诉白马桥街道凤凰城小区门口的烧烤摊，每天晚上油烟很大，噪音扰民，请城管处理。"


def desk_settings(stack: Pipeline) -> Settings:
    return Settings.from_env({**stack.env, "SHAOBAO_ROOM_PASSWORD": PASSWORD})


async def logged_in(web: Web, name: str = OPERATOR, secret: str = PASSWORD) -> dict[str, Any]:
    answer = await web.client.post("/api/room/login", json={"name": name, "secret": secret})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_triage_names_what_the_text_is_and_who_handles_it_with_the_knowledge_bases_answers(
    stack: Pipeline,
) -> None:
    kb = InMemoryKbSearcher(HOUSING_FUND)
    async with running_web(desk_settings(stack), kb=kb) as web:
        assert (await web.client.post("/api/desk/triage", json={"text": FUND})).status_code == 401
        await logged_in(web)
        answer = await web.client.post(
            "/api/desk/triage", json={"text": FUND, "address": "", "channel": "phone"}
        )
        assert answer.status_code == 200, answer.text
        shown = answer.json()
        triage = shown["triage"]
        assert triage["appeal_type"] == {"code": "consult", "name": "咨询"}
        assert triage["category"] == {"code": "policy.consult", "name": "政策咨询"}
        assert triage["disposition"] == {"code": "instant", "name": "当场答复（即办）"}
        assert triage["urgency"] == {"code": "normal", "name": "一般"}
        assert triage["explanation"] and triage["explanation"][0].startswith("分类：政策咨询")
        kb_shown = shown["kb"]
        assert len(kb_shown) == 3
        assert kb_shown[0]["entry_id"] == "gjj.rent-withdrawal"
        assert kb_shown[0]["source"] == "《住房公积金管理条例》 第二十四条"
        assert (kb_shown[0]["unit"], kb_shown[0]["unit_name"]) == ("gjj", "市住房公积金管理部")
        assert kb_shown[0]["current"] is True and kb_shown[0]["why"]
        stale = [m for m in kb_shown if m["entry_id"] == "gjj.rent-withdrawal-2019"]
        assert [m["current"] for m in stale] == [False]

        complaint = (await web.client.post("/api/desk/triage", json={"text": FUMES})).json()["triage"]
        assert complaint["disposition"] == {"code": "dispatch", "name": "派单"}
        assert complaint["lead"] == {"code": "cgj", "name": "市城市管理和综合执法局"}
        assert complaint["co"] == [{"code": "sthjj", "name": "市生态环境局"}]
        assert complaint["town"] == {"code": "baimaqiao", "name": "白马桥街道"}
        blank = await web.client.post("/api/desk/triage", json={"text": ""})
        assert blank.status_code == 422


async def test_triage_searches_the_stores_knowledge_base_when_none_is_wired(stack: Pipeline) -> None:
    settings = desk_settings(stack)
    store = AsyncpgTicketStore(settings.database_url)
    await (await store.pool()).execute("TRUNCATE kb_versions, kb_entries")  # the session's other tests'
    read = entries_from_document(
        yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")), load_jurisdiction(settings.jurisdiction_file)
    )
    try:
        for entry in read.entries:
            await AsyncpgKbStore(store).upsert(entry, by="测试")
    finally:
        await store.close()
    async with running_web(settings) as web:
        await logged_in(web)
        shown = (
            await web.client.post("/api/desk/triage", json={"text": "我退休了，公积金怎么全部取出来"})
        ).json()
        assert shown["kb_available"] is True
        assert shown["kb"][0]["entry_id"] == "gjj-retire-withdraw"
        assert len(shown["kb"]) == 3


async def test_a_callers_history_by_phone_newest_first_marks_a_repeat_call(
    stack: Pipeline, db: asyncpg.Connection
) -> None:
    number = f"139{uuid.uuid4().int % 10**8:08d}"
    now = datetime.now(UTC)
    sent = [
        appeal(
            text=f"白马桥街道凤凰城小区门口下水道堵塞，污水外溢到路面，请疏通。{i}",
            caller={"name": "向先生", "phone": f"{number[:3]}-{number[3:7]}-{number[7:]}"},
            received_at=(now - timedelta(days=days)).isoformat(),
        )
        for i, days in enumerate((3, 1))
    ]
    await produce(stack.settings.kafka, stack.names.intake, [encoded(a) for a in sent])

    async def both() -> list[asyncpg.Record] | None:
        rows = await db.fetch(
            "SELECT ticket_id, status, category FROM tickets"
            " WHERE state->'appeal'->>'source_id' = ANY($1::text[]) ORDER BY received_at DESC",
            [a["source_id"] for a in sent],
        )
        return rows if len(rows) == 2 else None

    tickets = await eventually(both, timeout_s=60)
    async with running_web(desk_settings(stack)) as web:
        await logged_in(web)
        answer = await web.client.get("/api/desk/history", params={"phone": f"{number[:3]} {number[3:]}"})
        assert answer.status_code == 200, answer.text
        history = answer.json()
        assert [t["ticket_id"] for t in history["tickets"]] == [r["ticket_id"] for r in tickets]
        names = {c.code: c.name for c in load_jurisdiction(stack.settings.jurisdiction_file).categories}
        assert [t["category"] for t in history["tickets"]] == [
            {"code": r["category"], "name": names[r["category"]]} for r in tickets
        ]
        assert [t["status"]["code"] for t in history["tickets"]] == [r["status"] for r in tickets]
        assert all(t["status"]["name"] in ("待签收", "待人工派单", "办理中") for t in history["tickets"])
        assert [t["last_callback"] for t in history["tickets"]] == [None, None]
        assert (history["repeat_call"], history["last_satisfaction"]) == (True, None)

        nobody = (await web.client.get("/api/desk/history", params={"phone": "+86 100-0000-0000"})).json()
        assert nobody == {"tickets": [], "repeat_call": False, "last_satisfaction": None}
        for bad in ("abc12345", "1234", "1" * 21, "139<script>"):
            refused = await web.client.get("/api/desk/history", params={"phone": bad})
            assert refused.status_code == 400
            assert refused.json() == {"error": "来电号码只能包含数字、+、-、空格，长度 5–20 位"}


BAD_BODIES: list[tuple[dict[str, Any], dict[str, str]]] = [
    ({"text": "", "decision": {"action": "dispatch"}}, {"text": "不能为空"}),
    (
        {"text": "问公积金", "decision": {"action": "answer"}},
        {"decision.answer.text": "当场答复须填写答复内容"},
    ),
    (
        {"text": "问公积金", "decision": {"action": "transfer"}},
        {"decision.transfer_to": "转办须选择转办去向（110、119、120、12369）"},
    ),
    (
        {"text": "油烟", "decision": {"action": "dispatch", "lead": "nobody"}},
        {"decision.lead": "不是本辖区的承办单位"},
    ),
    (
        {"text": "油烟", "decision": {"action": "dispatch", "operator": "冒名"}},
        {"decision.operator": "操作员以登录身份为准，不能在请求中指定"},
    ),
    (
        {"text": "油烟", "caller": {"phone": "call me"}, "decision": {"action": "dispatch"}},
        {"caller.phone": "来电号码只能包含数字、+、-、空格，长度 5–20 位"},
    ),
    (
        {"text": "油烟", "source_id": "mine", "decision": {"action": "dispatch"}},
        {"source_id": "不是可接受的字段"},
    ),
    ({"text": "油烟"}, {"decision": "必填（处理方式：当场答复、派单或转办）"}),
    (
        {"text": "油烟", "decision": {"action": "dispatch", "urgency": "soon"}},
        {"decision.urgency": "取值无效（可选：'normal', 'urgent' or 'emergency'）"},
    ),
    ({"channel": "fax", "text": "油烟", "decision": {"action": "dispatch"}}, {"channel": "取值无效"}),
]


async def test_a_bad_body_is_refused_field_by_field_in_chinese_and_puts_nothing_on_intake(
    stack: Pipeline,
) -> None:
    before = await desk_appeals(stack.settings.kafka, stack.names.intake)
    async with running_web(desk_settings(stack)) as web:
        await logged_in(web)
        for body, fields in BAD_BODIES:
            answer = await web.client.post("/api/desk/appeals", json=body)
            assert answer.status_code == 422, (body, answer.text)
            shown = {f["field"]: f["message"] for f in answer.json()["fields"]}
            for field, message in fields.items():
                assert shown[field].startswith(message), (body, shown)
            assert answer.json()["message"].startswith("未能受理：")
        unstorable = await web.client.post(
            "/api/desk/appeals", json={"text": "油烟\u0000", "decision": {"action": "dispatch"}}
        )
        assert unstorable.status_code == 400, unstorable.text
        assert [f["field"] for f in unstorable.json()["fields"]] == ["text"]
    assert await desk_appeals(stack.settings.kafka, stack.names.intake) == before


async def test_answer_dispatch_and_transfer_each_put_one_appeal_with_the_sessions_operator(
    stack: Pipeline,
) -> None:
    phone = f"137{uuid.uuid4().int % 10**8:08d}"
    caller = {"name": "李女士", "phone": phone}
    answer_text = HOUSING_FUND[0].answer
    cases = [
        (
            {
                "text": FUND,
                "decision": {
                    "action": "answer",
                    "answer": {
                        "text": answer_text,
                        "entry_id": "gjj.rent-withdrawal",
                        "source": "《住房公积金管理条例》 第二十四条",
                    },
                },
            },
            DeskDecision(
                operator=OPERATOR,
                action="answer",
                answer=DeskAnswer(
                    text=answer_text,
                    entry_id="gjj.rent-withdrawal",
                    source="《住房公积金管理条例》 第二十四条",
                ),
            ),
        ),
        (
            {
                "text": FUMES,
                "channel": "wechat",
                "decision": {"action": "dispatch", "lead": "cgj", "town": "baimaqiao", "urgency": "urgent"},
            },
            DeskDecision(
                operator=OPERATOR, action="dispatch", lead="cgj", town="baimaqiao", urgency="urgent"
            ),
        ),
        (
            {
                "text": "我家楼下着火了，浓烟很大，快来救火！",
                "decision": {"action": "transfer", "transfer_to": "119"},
            },
            DeskDecision(operator=OPERATOR, action="transfer", transfer_to="119"),
        ),
    ]
    async with running_web(desk_settings(stack)) as web:
        await logged_in(web)
        accepted = []
        for body, _ in cases:
            answer = await web.client.post(
                "/api/desk/appeals", json={**body, "caller": caller, "address": "凤凰城小区"}
            )
            assert answer.status_code == 202, answer.text
            accepted.append(answer.json())
    on_intake = await desk_appeals(stack.settings.kafka, stack.names.intake)
    for (body, decision), shown in zip(cases, accepted, strict=True):
        assert shown["source_id"].startswith("desk-")
        assert shown["intake_key"] == f"{body.get('channel', 'phone')}:{shown['source_id']}"
        assert shown["ticket_id"] is None or isinstance(shown["ticket_id"], str)
        [sent] = on_intake[shown["source_id"]]
        assert sent.desk == decision
        assert (sent.text, sent.address, sent.caller.phone, sent.caller.name) == (
            body["text"],
            "凤凰城小区",
            phone,
            "李女士",
        )
        assert sent.channel == body.get("channel", "phone")
    assert any(shown["ticket_id"] for shown in accepted)  # the pipeline opened tickets meanwhile


async def test_an_operator_token_from_the_cli_opens_the_desk_only_and_a_units_token_opens_nothing(
    stack: Pipeline,
) -> None:
    settings = Settings.from_env(stack.env)  # no password: tokens only
    out = io.StringIO()
    issued = await asyncio.to_thread(
        tokens_cli, ["issue", "--role", "operator", "--name", "王坐席"], settings, out
    )
    assert issued == 0
    line, printed = out.getvalue().splitlines()
    assert line.split()[1:3] == ["operator", "王坐席"]
    operator = printed.rsplit(" ", 1)[1]
    unit = await issued_token(settings, Principal(subject="zjj", role="unit"))
    room = await issued_token(settings, Principal(subject="刘调度", role="control_room"))
    async with running_web(settings) as web:
        refused = await web.client.post("/api/room/login", json={"name": "x", "secret": unit})
        assert refused.status_code == 401
        assert (await web.client.get("/desk")).headers["location"] == "/login"
        assert await logged_in(web, "ignored", operator) == {"operator": "王坐席", "role": "operator"}
        page = await web.client.get("/desk")
        assert page.status_code == 200 and "坐席受理台" in page.text
        assert (await web.client.get("/")).headers["location"] == "/desk"
        assert (await web.client.get("/api/room/board")).status_code == 403
        assert (await web.client.get("/api/queues")).status_code == 403
        assert (await web.client.get("/api/desk/me")).json() == {"operator": "王坐席", "role": "operator"}
        await web.client.post("/api/room/logout")
        assert await logged_in(web, "ignored", room) == {"operator": "刘调度", "role": "control_room"}
        assert (await web.client.get("/desk")).status_code == 200
        assert (await web.client.get("/api/room/board")).status_code == 200
    assert json.dumps(line, ensure_ascii=False)  # the listing line names no token
    assert operator not in line
