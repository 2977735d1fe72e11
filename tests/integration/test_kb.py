"""The knowledge base on the real database and web app: the import command's summary, the units'
API (own entries only, a version per change), and the desk's search behind the room login."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from domain.access import Principal
from tests.integration.clitools import shaobao
from tests.integration.conftest import Stack
from tests.integration.webtools import Web, issued_token, running_web

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "data" / "kb" / "example.yaml"
CLEAR_KB = "TRUNCATE kb_versions, kb_entries"


@pytest.fixture(scope="module")
async def web(stack: Stack) -> AsyncIterator[Web]:
    async with running_web(stack.settings) as running:
        yield running


async def bearer(stack: Stack, unit: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {await issued_token(stack.settings, Principal(subject=unit, role='unit'))}"
    }


def entry(entry_id: str, unit: str = "ybj", **fields: Any) -> dict[str, Any]:
    return {
        "entry_id": entry_id,
        "title": "生育津贴申领",
        "unit": unit,
        "categories": ["medical.insurance"],
        "tags": ["生育津贴"],
        "questions": ["生育津贴怎么申领？"],
        "answer": "产假结束后由单位代为申领。",
        "source": {"document": "示范市生育保险办法", "article": "第十二条"},
        "valid_from": "2025-01-01",
    } | fields


async def test_kb_import_writes_the_example_once_and_reports_a_bad_file_entry_by_entry(
    stack: Stack, db: asyncpg.Connection, tmp_path: Path
) -> None:
    await db.execute(CLEAR_KB)  # the session's database: other modules' tests import entries too
    first = await shaobao(stack, "kb", "import", str(EXAMPLE), "--by", "张管理员")
    assert (first.code, first.out) == (0, "读取 5 条，导入 5 条，未变 0 条，拒绝 0 条\n")
    again = await shaobao(stack, "kb", "import", str(EXAMPLE))
    assert (again.code, again.out) == (0, "读取 5 条，导入 0 条，未变 5 条，拒绝 0 条\n")
    rows = await db.fetch(
        "SELECT entry_id, version, changed_by, change FROM kb_versions"
        " WHERE entry_id IN ('gjj-retire-withdraw', 'gjj-loan-limit-2023') ORDER BY entry_id"
    )
    assert [tuple(r) for r in rows] == [
        ("gjj-loan-limit-2023", 1, "张管理员", "imported"),
        ("gjj-retire-withdraw", 1, "张管理员", "imported"),
    ]

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "entry_id,title,unit,categories,tags,questions,answer,source_document,source_article,valid_from,valid_to\n"
        "gjj-retire-withdraw,退休提取公积金（新）,gjj,housing.fund,公积金,退休怎么提取公积金,带身份证办理。,提取办法,,2026-01-01,\n"
        "x-1,标题,nobody,housing.fund,,问题,答案,办法,,2024-01-01,\n"
        "x-2,,gjj,no.such,,问题,答案,办法,,2024-02-30,\n",
        encoding="utf-8",
    )
    mixed = await shaobao(stack, "kb", "import", str(bad), "--by", "李四")
    assert mixed.code == 1
    assert mixed.out.splitlines() == [
        "读取 3 条，导入 1 条，未变 0 条，拒绝 2 条",
        "  拒绝 第 3 行 x-1：单位代码 nobody 不是本辖区的单位",
        "  拒绝 第 4 行 x-2：标题：不能为空；生效日期：不是有效日期（应为 YYYY-MM-DD，如 2024-01-01）；"
        "分类代码 no.such 不是本辖区的分类",
    ]
    kept = await db.fetchrow(
        "SELECT version, updated_by FROM kb_entries WHERE entry_id = 'gjj-retire-withdraw'"
    )
    assert tuple(kept) == (2, "李四")
    assert await db.fetchval("SELECT count(*) FROM kb_entries WHERE entry_id IN ('x-1', 'x-2')") == 0
    missing = await shaobao(stack, "kb", "import", str(tmp_path / "none.txt"))
    assert missing.code == 2 and missing.out.startswith("错误：无法读取 ")


async def test_a_unit_creates_updates_lists_and_retires_its_entry_and_another_unit_can_do_none_of_it(
    stack: Stack, web: Web
) -> None:
    ybj, rsj = await bearer(stack, "ybj"), await bearer(stack, "rsj")
    path = "/api/units/me/kb/ybj-maternity"

    created = await web.client.put(path, json=entry("ybj-maternity"), headers=ybj)
    assert created.status_code == 201, created.text
    assert (created.json()["outcome"], created.json()["stored"]["version"]) == ("created", 1)
    same = await web.client.put(path, json=entry("ybj-maternity"), headers=ybj)
    assert (same.status_code, same.json()["outcome"], same.json()["stored"]["version"]) == (
        200,
        "unchanged",
        1,
    )
    updated = await web.client.put(
        path, json=entry("ybj-maternity", answer="产假结束后自行申领。"), headers=ybj
    )
    assert (updated.status_code, updated.json()["outcome"]) == (200, "updated")
    assert (updated.json()["stored"]["version"], updated.json()["stored"]["updated_by"]) == (2, "ybj")

    versions = await web.client.get(f"{path}/versions", headers=ybj)
    assert versions.status_code == 200
    listed = versions.json()["versions"]
    assert [(v["version"], v["change"], v["changed_by"]) for v in listed] == [
        (1, "created", "ybj"),
        (2, "updated", "ybj"),
    ]
    assert [v["entry"]["answer"] for v in listed] == ["产假结束后由单位代为申领。", "产假结束后自行申领。"]
    assert listed[0]["changed_at"] <= listed[1]["changed_at"]

    mine = (await web.client.get("/api/units/me/kb", headers=ybj)).json()
    ours = {e["entry"]["entry_id"]: e for e in mine["entries"]}
    assert mine["unit"] == "ybj" and {e["entry"]["unit"] for e in mine["entries"]} == {"ybj"}
    assert (ours["ybj-maternity"]["version"], ours["ybj-maternity"]["entry"]["answer"]) == (
        2,
        "产假结束后自行申领。",
    )
    theirs = (await web.client.get("/api/units/me/kb", headers=rsj)).json()
    assert [e for e in theirs["entries"] if e["entry"]["entry_id"] == "ybj-maternity"] == []

    taken = await web.client.put(path, json=entry("ybj-maternity", unit="rsj"), headers=rsj)
    assert (taken.status_code, taken.json()["error"]) == (403, "not_your_entry")
    removed = await web.client.delete(path, headers=rsj)
    assert (removed.status_code, removed.json()["error"]) == (403, "not_your_entry")
    peeked = await web.client.get(f"{path}/versions", headers=rsj)
    assert (peeked.status_code, peeked.json()["error"]) == (403, "not_your_entry")
    posing = await web.client.put("/api/units/me/kb/rsj-x", json=entry("rsj-x", unit="ybj"), headers=rsj)
    assert (posing.status_code, posing.json()["error"]) == (422, "unit_mismatch")

    retired = await web.client.delete(path, headers=ybj)
    assert retired.status_code == 200 and retired.json()["version"] == 3 and retired.json()["retired_at"]
    after = (await web.client.get("/api/units/me/kb", headers=ybj)).json()["entries"]
    assert [e for e in after if e["entry"]["entry_id"] == "ybj-maternity"] == []
    history = (await web.client.get(f"{path}/versions", headers=ybj)).json()["versions"]
    assert [(v["version"], v["change"], v["entry"]) for v in history][2] == (3, "retired", None)
    assert (await web.client.delete("/api/units/me/kb/ybj-none", headers=ybj)).status_code == 404


async def test_an_invalid_entry_is_refused_with_its_fields(stack: Stack, web: Web) -> None:
    ybj = await bearer(stack, "ybj")
    bad = entry("ybj-bad", questions=[], valid_to="2024-01-01")
    refused = await web.client.put("/api/units/me/kb/ybj-bad", json=bad, headers=ybj)
    assert refused.status_code == 422
    assert refused.json()["error"] == "invalid_entry"
    assert [(f["field"], f["type"]) for f in refused.json()["fields"]] == [("questions", "too_short")]
    unknown = await web.client.put(
        "/api/units/me/kb/ybj-bad", json=entry("ybj-bad", categories=["no.such"]), headers=ybj
    )
    assert (unknown.status_code, unknown.json()["message"]) == (422, "分类代码 no.such 不是本辖区的分类")
    assert (await web.client.put("/api/units/me/kb/ybj-bad", json=entry("ybj-bad"))).status_code == 401


async def test_the_desk_searches_the_knowledge_base_when_logged_in(
    stack: Stack, web: Web, db: asyncpg.Connection
) -> None:
    await db.execute(CLEAR_KB)
    imported = await shaobao(stack, "kb", "import", str(EXAMPLE))
    assert imported.code == 0
    query = {"q": "我退休了，想把公积金取出来，怎么提取"}
    web.client.cookies.clear()
    assert (await web.client.get("/api/kb/search", params=query)).status_code == 401

    token = await issued_token(stack.settings, Principal(subject="王坐席", role="control_room"))
    login = await web.client.post("/api/room/login", json={"name": "王坐席", "secret": token})
    assert login.status_code == 200, login.text
    found = await web.client.get("/api/kb/search", params=query)
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["query"] == query["q"]
    first = body["matches"][0]
    assert {k: first[k] for k in ("entry_id", "unit", "unit_name", "source", "current")} == {
        "entry_id": "gjj-retire-withdraw",
        "unit": "gjj",
        "unit_name": "市住房公积金管理部",
        "source": "示范市住房公积金提取管理办法 第八条",
        "current": True,
    }
    assert [m["entry_id"] for m in body["matches"]][:2] == ["gjj-retire-withdraw", "gjj-loan-limit-2023"]
    assert body["matches"][1]["current"] is False
    assert body["matches"][0]["score"] > body["matches"][1]["score"]
    assert body["matches"][0]["why"][0].startswith("命中：退休、公积金")

    empty = await web.client.get("/api/kb/search", params={"q": "  "})
    assert (empty.status_code, empty.json()) == (400, {"error": "请输入要查找的内容（q）"})
    long = await web.client.get("/api/kb/search", params={"q": "公" * 2001})
    assert (long.status_code, long.json()) == (400, {"error": "查找内容过长（最多 2000 字）"})
    await web.client.post("/api/room/logout")
    web.client.cookies.clear()
