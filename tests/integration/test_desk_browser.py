"""The desk in a headless Chromium (Debian's, through Playwright) against the web app served
by uvicorn on the session's real pipeline and the sample county's knowledge base in the real
database (issue 19's "done means"): a housing-fund consultation answered on the line from the
knowledge base, then a complaint dispatched with one click; both in PostgreSQL, the answer in
the daily report's 即办 figures, and both on the wall screen."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import asyncpg
import pytest
import uvicorn
from playwright.sync_api import Page, sync_playwright

from schemas.desk import DeskDecision
from shaobao.launch import Pipeline, free_port, run_coroutine
from shaobao.web_wiring import web_app
from streams.settings import Settings
from tests.integration.desktools import desk_appeals, import_sample_kb
from tests.integration.test_desk import FUMES, FUND, PASSWORD

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
OPERATOR = "陈坐席"
SHANGHAI = ZoneInfo("Asia/Shanghai")
T = TypeVar("T")


@pytest.fixture
def served(stack: Pipeline) -> Iterator[str]:
    settings = Settings.from_env({**stack.env, "SHAOBAO_ROOM_PASSWORD": PASSWORD})
    run_coroutine(import_sample_kb(settings))
    app = web_app(settings)  # the desk searches the store's knowledge base
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the web app did not start"
        time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def log_in(page: Page, url: str) -> None:
    page.goto(url + "/desk")
    assert page.url.endswith("/login")
    page.fill("input[name=name]", OPERATOR)
    page.fill("input[name=secret]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")
    page.goto(url + "/desk")
    page.wait_for_selector(f"#operator:has-text('{OPERATOR}')")


RENT = "gjj-withdraw-rent"


def tile(page: Page, label: str) -> int:
    return int(page.locator(f".tile:has(.tile-label:text-is('{label}')) .tile-value").inner_text())


async def today_count(db_url: str, kind: str) -> int:
    conn = await asyncpg.connect(db_url)
    try:
        day_start = datetime.now(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM ticket_events WHERE type = $1 AND occurred_at >= $2", kind, day_start
            )
        )
    finally:
        await conn.close()


async def ticket_row(db_url: str, ticket_id: str) -> tuple[str, str | None, dict[str, object]] | None:
    conn = await asyncpg.connect(db_url)
    try:
        row = await conn.fetchrow("SELECT status, lead_unit FROM tickets WHERE ticket_id = $1", ticket_id)
        second = await conn.fetchval(
            "SELECT payload FROM ticket_events WHERE ticket_id = $1 AND version = 2", ticket_id
        )
        # Routed, not merely received: the sink may write the two events apart.
        routed = row is not None and second is not None and row["status"] != "received"
        return (row["status"], row["lead_unit"], json.loads(second)) if routed else None
    finally:
        await conn.close()


def settled(probe: Callable[[], T | None], timeout_s: float = 20.0) -> T:
    deadline = time.monotonic() + timeout_s
    while (found := probe()) is None:
        assert time.monotonic() < deadline, f"nothing after {timeout_s}s"
        time.sleep(0.1)
    return found


def test_an_operator_answers_a_housing_fund_question_from_the_knowledge_base_then_dispatches_a_complaint(
    stack: Pipeline, served: str
) -> None:
    assert shutil.which("chromium") == CHROMIUM
    db_url = stack.env["DATABASE_URL"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 900}, locale="zh-CN")
            log_in(page, served)
            before = page.request.get(served + "/api/reports/daily?format=json").json()["dispositions"]
            page.fill("#phone", "138 0731 5678")
            page.fill("#caller-name", "周先生")
            page.fill("#address", "白马桥街道凤凰城小区")
            page.type("#text", FUND, delay=5)
            page.wait_for_selector("#triage dd:has-text('咨询')")
            page.wait_for_selector(".kb-item")
            assert page.locator(".kb-item").count() == 3
            rent = page.locator(".kb-item:has-text('租房提取住房公积金')")
            assert rent.count() == 1  # the right answer among the top three, with its source
            assert "政策依据：" in rent.inner_text() and "匹配原因" in rent.inner_text()
            page.wait_for_selector("#history-summary:has-text('该号码没有历史工单')")
            assert page.locator("#repeat").is_hidden()  # no ticket from the number: no 重复来电
            rent.locator("button.adopt").click()
            assert "租房" in page.input_value("#answer")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "desk.png"))
            page.click("#do-answer")
            page.wait_for_selector("#result.ok:has-text('已当场答复'):has-text('工单号')", timeout=15_000)
            answered_id = page.inner_text("#result").split("工单号 ")[1].split("（")[0].strip()
            assert page.input_value("#text") == "" and page.input_value("#answer") == ""

            status, lead, event = settled(lambda: run_coroutine(ticket_row(db_url, answered_id)))
            assert (status, lead, event["type"], event["entry_id"], event["operator"]) == (
                "instant",
                None,
                "ticket_answered_instantly",
                RENT,
                OPERATOR,
            )
            after = page.request.get(served + "/api/reports/daily?format=json").json()["dispositions"]
            assert after["即办"] == before["即办"] + 1

            page.fill("#phone", "13807315678")
            page.wait_for_selector(f"#history tbody tr td:text-is('{answered_id}')")  # the call just answered
            page.type("#text", FUMES, delay=5)
            page.wait_for_selector("#triage dd:has-text('市城市管理和综合执法局')")
            page.wait_for_selector("#triage dd:has-text('白马桥街道')")
            page.click("#do-dispatch")  # one click: triage's suggestion accepted
            page.wait_for_selector("#result.ok:has-text('已派单'):has-text('工单号')", timeout=15_000)
            dispatched_id = page.inner_text("#result").split("工单号 ")[1].split("（")[0].strip()
            page.screenshot(path=str(ARTIFACTS / "desk-after.png"))
            status, lead, event = settled(lambda: run_coroutine(ticket_row(db_url, dispatched_id)))
            assert (status, lead, event["by"], event["operator"]) == ("dispatched", "cgj", "person", OPERATOR)

            # The wall screen counts both: today's answers on the line and dispatches, as the log has them.
            page.goto(served + "/")
            page.wait_for_selector(".tile-label:text-is('今日即办')")
            answered_today = run_coroutine(today_count(db_url, "ticket_answered_instantly"))
            dispatched_today = run_coroutine(today_count(db_url, "ticket_dispatched"))
            settled(
                lambda: (
                    tile(page, "今日即办") == answered_today
                    and tile(page, "今日派单") == dispatched_today
                    or None
                )
            )
            page.screenshot(path=str(ARTIFACTS / "desk-wall.png"))
        finally:
            browser.close()
    on_intake = run_coroutine(desk_appeals(stack.settings.kafka, stack.names.intake))
    mine = [a for appeals in on_intake.values() for a in appeals if a.desk and a.desk.operator == OPERATOR]
    answered = [a for a in mine if a.text == FUND]
    dispatched = [a for a in mine if a.text == FUMES]
    assert len(answered) == 1 and len(dispatched) == 1
    decision = answered[0].desk
    assert decision is not None and decision.action == "answer" and decision.answer is not None
    assert (decision.answer.entry_id, decision.answer.source) == (
        RENT,
        "《宁乡市住房公积金提取管理办法》 第九条",
    )
    assert (answered[0].caller.phone, answered[0].caller.name) == ("138 0731 5678", "周先生")
    assert dispatched[0].desk == DeskDecision(operator=OPERATOR, action="dispatch")
