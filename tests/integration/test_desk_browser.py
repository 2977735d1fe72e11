"""The desk in a headless Chromium (Debian's, through Playwright) against the web app served
by uvicorn on the session's real pipeline, with an in-memory knowledge base: a housing-fund
consultation answered on the line from the knowledge base, then a complaint dispatched."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Page, sync_playwright

from schemas.desk import DeskAnswer, DeskDecision
from shaobao.launch import Pipeline, free_port, run_coroutine
from streams.settings import Settings
from tests.integration.desktools import HOUSING_FUND, InMemoryKbSearcher, desk_appeals
from tests.integration.test_desk import FUMES, FUND, PASSWORD
from web.app import create_web_app

SCREENSHOT = Path("/work/tmp/desk.png")
CHROMIUM = "/usr/bin/chromium"
OPERATOR = "陈坐席"


@pytest.fixture
def served(stack: Pipeline) -> Iterator[str]:
    settings = Settings.from_env({**stack.env, "SHAOBAO_ROOM_PASSWORD": PASSWORD})
    app = create_web_app(settings, kb=InMemoryKbSearcher(HOUSING_FUND))
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


def test_an_operator_answers_a_housing_fund_question_from_the_knowledge_base_then_dispatches_a_complaint(
    stack: Pipeline, served: str
) -> None:
    assert shutil.which("chromium") == CHROMIUM
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 900}, locale="zh-CN")
            log_in(page, served)
            page.fill("#phone", "138 0731 5678")
            page.fill("#caller-name", "周先生")
            page.fill("#address", "白马桥街道凤凰城小区")
            page.type("#text", FUND, delay=5)
            page.wait_for_selector("#triage dd:has-text('咨询')")
            page.wait_for_selector(".kb-item:has-text('租房提取住房公积金')")
            assert page.locator(".kb-item").count() == 3
            assert page.locator(".kb-item.stale .badge:has-text('已过期')").count() == 1
            assert (
                "政策依据：《住房公积金管理条例》 第二十四条" in page.locator(".kb-item").first.inner_text()
            )
            page.wait_for_selector("#history-summary:has-text('该号码没有历史工单')")
            assert page.locator("#repeat").is_hidden()  # no ticket from the number: no 重复来电
            page.locator(".kb-item").first.locator("button.adopt").click()
            assert page.input_value("#answer") == HOUSING_FUND[0].answer
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
            page.click("#do-answer")
            page.wait_for_selector("#result.ok:has-text('已当场答复')", timeout=15_000)
            assert page.input_value("#text") == "" and page.input_value("#answer") == ""

            page.fill("#phone", "13807315678")
            page.wait_for_selector("#history tbody tr td:has-text('政策咨询')")  # the call just answered
            page.type("#text", FUMES, delay=5)
            page.wait_for_selector("#triage dd:has-text('市城市管理和综合执法局')")
            page.wait_for_selector("#triage dd:has-text('白马桥街道')")
            page.select_option("#fix-urgency", "urgent")
            page.click("#do-dispatch")
            page.wait_for_selector("#result.ok:has-text('已派单')", timeout=15_000)
            page.screenshot(path=str(SCREENSHOT.with_name("desk-after.png")))
        finally:
            browser.close()
    on_intake = run_coroutine(desk_appeals(stack.settings.kafka, stack.names.intake))
    mine = [a for appeals in on_intake.values() for a in appeals if a.desk and a.desk.operator == OPERATOR]
    answered = [a for a in mine if a.text == FUND]
    dispatched = [a for a in mine if a.text == FUMES]
    assert len(answered) == 1 and len(dispatched) == 1
    entry = HOUSING_FUND[0]
    assert answered[0].desk == DeskDecision(
        operator=OPERATOR,
        action="answer",
        answer=DeskAnswer(text=entry.answer, entry_id=entry.entry_id, source=entry.source.cited()),
    )
    assert (answered[0].caller.phone, answered[0].caller.name) == ("138 0731 5678", "周先生")
    assert dispatched[0].desk == DeskDecision(operator=OPERATOR, action="dispatch", urgency="urgent")
