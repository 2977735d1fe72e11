"""The control room in a real browser against `shaobao run`, with short limits: log in, an
appeal produced to Kafka shows in its unit's queue within 2 s, turns at risk and overdue,
a manual-queue ticket is dispatched in one click, a citizen's `<script>` shows as text;
then the simulators fill the wall for the screenshot a person looks at."""

from __future__ import annotations

import html
import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import asyncpg
import pytest
from playwright.sync_api import Browser, Page

from infra.local.services import ServiceEndpoints
from shaobao.launch import run_coroutine
from streams.kafka_access import KafkaAccess
from tests.e2e.conftest import REPO, RunningStack, launched_stack
from tests.integration.kafkatools import produce

pytestmark = pytest.mark.e2e
PASSWORD = "e2e-control-room"
JURISDICTION = REPO / "data" / "jurisdiction" / "sample-county.yaml"
# Normal tickets must be signed within 9 s (at risk after 6.75 s) and completed within 2 min.
SHORT_NORMAL = "  normal:    {sign: 0.15min, complete: 2min}"
SEWER = "来电人反映：白马桥街道凤凰城小区门口下水道堵塞，污水外溢到路面，臭味很大，请相关部门疏通。"
SCRIPT = "来电人反映：小区里有人<script>window.__pwned=1</script>乱搭乱建，影响通行，请处理。"
AMBIGUOUS = "长乐村的下水道堵了，污水外溢，请派人处理。"


def short_limits(workdir: Path) -> Path:
    """The sample jurisdiction (and its lexicon beside it) with short limits for normal tickets."""
    text = JURISDICTION.read_text(encoding="utf-8")
    lines = [SHORT_NORMAL if line.startswith("  normal:") else line for line in text.splitlines()]
    assert SHORT_NORMAL in lines
    target = workdir / "short-county.yaml"
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    lexicon = JURISDICTION.with_name(JURISDICTION.stem + ".lexicon.yaml")
    (workdir / "short-county.lexicon.yaml").write_text(lexicon.read_text(encoding="utf-8"), encoding="utf-8")
    return target


def send_appeal(stack: RunningStack, text: str) -> str:
    source_id = f"e2e-{uuid.uuid4().hex[:10]}"
    appeal = {
        "channel": "phone",
        "source_id": source_id,
        "received_at": "2026-03-02T09:15:00+08:00",
        "text": text,
        "caller": {"name": "王先生", "phone": "13907311234"},
    }
    record = (f"phone:{source_id}".encode(), json.dumps(appeal, ensure_ascii=False).encode())
    run_coroutine(produce(KafkaAccess.from_env(stack.env), f"{stack.prefix}appeals.intake", [record]))
    return source_id


def ticket_of(stack: RunningStack, source_id: str, status: str | None = None) -> asyncpg.Record:
    """The ticket's PostgreSQL row, once there (and in `status`, if given)."""

    async def row() -> asyncpg.Record | None:
        conn = await asyncpg.connect(stack.database_url)
        try:
            found = await conn.fetchrow(
                "SELECT ticket_id, status, state FROM tickets WHERE state->'appeal'->>'source_id' = $1",
                source_id,
            )
        finally:
            await conn.close()
        return found if found is not None and status in (None, found["status"]) else None

    deadline = time.monotonic() + 20
    while (found := run_coroutine(row())) is None:
        assert time.monotonic() < deadline, f"no ticket for {source_id} (in {status})"
        time.sleep(0.2)
    return found


def act(stack: RunningStack, unit: str, ticket_id: str, action: dict[str, object]) -> None:
    """A unit's action on its own actions topic, as its system would write it."""
    body = {
        "action_id": f"e2e-{uuid.uuid4().hex[:10]}",
        "ticket_id": ticket_id,
        "acted_at": "2026-12-01T00:00:00Z",
    }
    value = json.dumps(body | action, ensure_ascii=False).encode()
    topic = f"{stack.prefix}units.{unit}.actions"
    run_coroutine(produce(KafkaAccess.from_env(stack.env), topic, [(ticket_id.encode(), value)]))


def cell(page: Page, unit: str, queue: str) -> str:
    return f"#queues tbody tr[data-unit='{unit}'] td.q-{queue}"


@contextmanager
def another_site(page_html: str) -> Iterator[str]:
    """A page served from another origin on this host (same site, other port): what a forged
    request from a malicious page the operator opens looks like to the browser."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            body = page_html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def forged_post(target: str) -> str:
    """A form that posts JSON-looking text/plain to `target` as soon as it loads (classic CSRF)."""
    field = html.escape('{"reason": "伪造", "x": "', quote=True)
    return (
        f'<form method="post" action="{html.escape(target)}" enctype="text/plain">'
        f'<input name="{field}" value=\'"}}\'></form><script>document.forms[0].submit()</script>'
    )


def log_in(page: Page, stack: RunningStack) -> None:
    page.goto(stack.url + "/")
    assert page.url.endswith("/login")
    page.fill("input[name=name]", "李调度")
    page.fill("input[name=secret]", "wrong")
    page.click("button[type=submit]")
    page.wait_for_selector("#message:has-text('口令或令牌不正确')")
    page.fill("input[name=secret]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#status.ok", timeout=15_000)
    assert page.text_content("#operator") == "李调度"


@contextmanager
def simulators(stack: RunningStack) -> Iterator[None]:
    """Appeals, units and callbacks while the block runs, so the wall shows a working day."""
    commands = (
        ["simulate", "--rate", "4", "--burst-every", "10"],
        ["units", "simulate", "--speed", "2"],
        ["callbacks", "simulate", "--speed", "2"],
    )
    children = [
        subprocess.Popen(  # noqa: S603 - our own entry point
            [sys.executable, "-m", "shaobao.cli", *args],
            env=stack.env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for args in commands
    ]
    try:
        yield
    finally:
        for child in children:
            child.terminate()
            child.wait(timeout=30)


def test_the_control_room_shows_queues_limits_and_dispatches_in_one_click(
    endpoints: ServiceEndpoints, tmp_path: Path, browser: Browser, artifacts: Path
) -> None:
    jurisdiction = short_limits(tmp_path)
    with launched_stack(
        endpoints,
        tmp_path,
        ("--no-simulator",),
        SHAOBAO_ROOM_PASSWORD=PASSWORD,
        SHAOBAO_JURISDICTION=str(jurisdiction),
    ) as stack:
        assert any(f"control room password: {PASSWORD}" in line for line in stack.lines)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        log_in(page, stack)

        sent_at = time.monotonic()
        source_id = send_appeal(stack, SEWER)
        page.wait_for_selector(f"{cell(page, 'zjj', 'awaiting_sign')}:has-text('1')", timeout=2_000)
        print(f"the appeal showed in zjj's queue {time.monotonic() - sent_at:.2f} s after it was produced")
        ticket = ticket_of(stack, source_id)["ticket_id"]
        page.wait_for_selector(f"{cell(page, 'zjj', 'at_risk')}:has-text('1')", timeout=20_000)
        page.screenshot(path=str(artifacts / "control-room-at-risk.png"))
        page.wait_for_selector(f"{cell(page, 'zjj', 'overdue')}:has-text('1')", timeout=20_000)
        assert page.text_content(cell(page, "zjj", "at_risk")) == "0"
        assert page.text_content(cell(page, "zjj", "awaiting_sign")) == "1"

        act(
            stack,
            "baimaqiao",
            ticket,
            {"type": "whistle", "units": ["cgj", "gsgs"], "reason": "需城管、供水到场"},
        )
        whistle = f"#whistles li[data-ticket='{ticket}']"
        page.wait_for_selector(f"{whistle} .wunit .countdown", timeout=10_000)
        act(stack, "cgj", ticket, {"type": "report_in", "note": "已到场"})
        page.wait_for_selector(f"{whistle} .wunit.done", timeout=10_000)
        assert page.locator(f"{whistle} .wunit .countdown").count() == 1  # gsgs has yet to report in

        script_source = send_appeal(stack, SCRIPT)
        ambiguous_source = send_appeal(stack, AMBIGUOUS)
        script_ticket = ticket_of(stack, script_source)["ticket_id"]
        ambiguous_ticket = ticket_of(stack, ambiguous_source)["ticket_id"]
        script_card = f"#manual-wall li[data-ticket='{script_ticket}']"
        page.wait_for_selector(script_card, timeout=10_000)
        assert page.text_content(f"{script_card} .citizen-text") == SCRIPT
        assert page.locator("#manual-wall script").count() == 0
        assert page.evaluate("window.__pwned") is None

        card = f"#manual-wall li[data-ticket='{ambiguous_ticket}']"
        page.wait_for_selector(card)
        assert page.input_value(f"{card} select[name=lead]") == "zjj"  # the route of the router's best guess
        page.screenshot(path=str(artifacts / "control-room-manual-queue.png"))
        page.click(f"{card} button.dispatch")
        page.wait_for_selector(card, state="detached", timeout=10_000)
        state = json.loads(ticket_of(stack, ambiguous_source, "dispatched")["state"])
        assert (state["lead"], state["town"]) == ("zjj", "daolin")

        page.goto(f"{stack.url}/#/ticket/{ticket}")
        headers = page.request.get(stack.url + "/").headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert (headers["x-frame-options"], headers["x-content-type-options"]) == ("DENY", "nosniff")
        page.wait_for_selector("#ticket-page .timeline li.ev-limit_overdue", timeout=10_000)
        assert page.text_content("#ticket-page .citizen-text.big") == SEWER
        page.screenshot(path=str(artifacts / "control-room-ticket.png"), full_page=True)

        # A page of another origin the operator opens cannot act with the operator's session:
        # the browser sends the cookie (same site), the Origin names the other page, 403.
        # The operator's browser, with their session cookie, opening another page.
        elsewhere = browser.new_context(storage_state=page.context.storage_state())
        evil = elsewhere.new_page()
        with another_site(forged_post(f"{stack.url}/api/room/tickets/{ticket}/confidential")) as url:
            with evil.expect_response(lambda r: r.url.endswith("/confidential")) as forged:
                evil.goto(url)
            assert forged.value.status == 403
        with another_site(f'<iframe src="{stack.url}/"></iframe>') as url:
            refused = ("frame-ancestors", "X-Frame-Options")
            with evil.expect_console_message(lambda m: any(r in m.text for r in refused), timeout=10_000):
                evil.goto(url)
        elsewhere.close()
        assert json.loads(ticket_of(stack, source_id)["state"])["triage"]["caller_withheld"] is False

        # 声明保密 from the ticket page: units and the public see no caller from now on.
        page.fill("#ticket-page form.confidential input[name=reason]", "来电人担心被报复")
        page.click("#ticket-page form.confidential button")
        page.wait_for_selector("#ticket-page .dispatch-note:has-text('已提交')", timeout=5_000)
        deadline = time.monotonic() + 20
        while not json.loads(ticket_of(stack, source_id)["state"])["triage"]["caller_withheld"]:
            assert time.monotonic() < deadline, "the declaration did not reach the ticket"
            time.sleep(0.2)
        page.reload()
        page.wait_for_selector("#ticket-page .timeline li.ev-caller_withheld", timeout=10_000)
        assert "来电人：举报人信息保密" in (page.text_content("#ticket-page") or "")
        assert page.locator("#ticket-page form.confidential").count() == 0

        page.goto(f"{stack.url}/#/tickets?unit=zjj&status=overdue")
        page.wait_for_selector(f"#ticket-list tbody tr[data-ticket='{ticket}']", timeout=5_000)
        assert page.locator("#ticket-list tbody tr").count() == 1

        with simulators(stack):
            page.goto(stack.url + "/#/")
            page.wait_for_timeout(25_000)
            page.screenshot(path=str(artifacts / "control-room-wall.png"))
        page.close()
        stack.process.send_signal(2)
        assert stack.process.wait(timeout=60) == 0
