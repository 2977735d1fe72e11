"""`shaobao run` (what `make run` starts) as a user runs it: ready line, an appeal typed in with
kcat shows up as a work order and a PostgreSQL row, the control room shows it, Ctrl-C stops all."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from playwright.sync_api import Browser

from infra.local.services import ServiceEndpoints
from shaobao.launch import run_coroutine
from streams.kafka_access import KafkaAccess
from tests.e2e.conftest import launched_stack
from tests.integration.kafkatools import read_all

pytestmark = pytest.mark.e2e
PASSWORD = "e2e-room-password"
# What `running_stack` yields: the process, its env, web port, database URL, topic prefix and output lines.
Launched = tuple[subprocess.Popen[str], dict[str, str], int, str, str, list[str]]


def processes_with(marker: str) -> list[int]:
    """Pids whose environment carries this run's unique topic prefix."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker.encode() in (proc / "environ").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def command_of(pid: int) -> list[str]:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().decode().split("\0")[:-1]
    except OSError:
        return []


@pytest.fixture
def running_stack(endpoints: ServiceEndpoints, tmp_path: Path) -> Iterator[Launched]:
    with launched_stack(endpoints, tmp_path, SHAOBAO_ROOM_PASSWORD=PASSWORD) as stack:
        yield stack.process, stack.env, stack.port, stack.database_url, stack.prefix, stack.lines


def test_make_run_dispatches_a_kcat_appeal_shows_the_control_room_and_stops_cleanly(
    running_stack: Launched,
    browser: Browser,
    artifacts: Path,
) -> None:
    process, env, port, database_url, prefix, lines = running_stack
    assert any(f"http://127.0.0.1:{port}/" in line for line in lines)
    kafka = KafkaAccess.from_env(env)
    clients = Path(env["SHAOBAO_STATE_DIR"]) / "kafka" / "clients"
    source_id = f"kcat-{uuid.uuid4().hex[:8]}"
    appeal = {
        "channel": "phone",
        "source_id": source_id,
        "received_at": "2026-03-02T09:15:00+08:00",
        "text": "来电人反映：白马桥街道凤凰城小区门口下水道堵塞，污水外溢到路面，臭味很大，请相关部门疏通。",
        "address": "凤凰城小区",
        "caller": {"name": "李女士", "phone": "13807311234"},
    }
    line = f"phone:{source_id}|{json.dumps(appeal, ensure_ascii=False)}\n"
    if kafka.uses_sasl:
        # The broker refuses an anonymous client; the simulator's own principal may write intake.
        anonymous = ["kcat", "-P", "-b", kafka.bootstrap_servers, "-t", f"{prefix}appeals.intake", "-K", "|"]
        refused = subprocess.run(
            anonymous, input=line, text=True, capture_output=True, timeout=60, check=False
        )
        assert refused.returncode != 0 and "SASL authentication" in refused.stderr, refused.stderr
        sender = ["kcat", "-F", str(clients / "simulator.properties")]
    else:
        sender = ["kcat", "-b", kafka.bootstrap_servers]
    sent_at = time.monotonic()
    subprocess.run(
        [*sender, "-P", "-t", f"{prefix}appeals.intake", "-K", "|"],
        input=line,
        text=True,
        check=True,
        timeout=60,
    )

    async def find_order() -> dict[str, object] | None:
        records = await read_all(kafka, f"{prefix}units.zjj.orders", idle_s=0.2)
        for _, value in records:
            order: dict[str, Any] = json.loads(value)
            if "凤凰城小区门口下水道" in order["text"]:
                return order
        return None

    order = None
    while order is None and time.monotonic() - sent_at < 30:
        order = run_coroutine(find_order())
    waited = time.monotonic() - sent_at
    assert order is not None, "no order on units.zjj.orders within 30 s"
    assert waited < 5, f"the order took {waited:.1f} s"
    assert (order["unit"], order["role"], order["co"]) == ("zjj", "lead", ["baimaqiao"])
    assert order["caller"] == {"name": "李女士", "phone": "138****1234"}
    if kafka.uses_sasl:
        # A unit's own system reads its orders as itself: `kcat -F unit-zjj.properties`.
        read = [
            "kcat",
            "-F",
            str(clients / "unit-zjj.properties"),
            "-C",
            "-t",
            f"{prefix}units.zjj.orders",
            "-e",
        ]
        mine = subprocess.run(read, capture_output=True, text=True, timeout=60, check=False)
        assert mine.returncode == 0 and "凤凰城小区门口下水道" in mine.stdout, mine.stderr
        # …and nothing of another unit's, nor the ticket log; nor may it act as another unit.
        unit_zjj = ["kcat", "-F", str(clients / "unit-zjj.properties")]
        for topic in (f"{prefix}units.cgj.orders", f"{prefix}tickets.events"):
            peek = subprocess.run(
                [*unit_zjj, "-C", "-t", topic, "-e"], capture_output=True, text=True, timeout=60
            )
            assert peek.returncode != 0 and "Topic authorization failed" in peek.stderr, (topic, peek.stderr)
        forged = subprocess.run(
            [*unit_zjj, "-P", "-t", f"{prefix}units.cgj.actions", "-K", "|"],
            input='T-1|{"type": "sign"}\n',
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert forged.returncode != 0 and "Topic authorization failed" in forged.stderr, forged.stderr

    async def ticket_row() -> asyncpg.Record | None:
        conn = await asyncpg.connect(database_url)
        try:
            return await conn.fetchrow(
                "SELECT status, lead_unit FROM tickets WHERE state->'appeal'->>'source_id' = $1", source_id
            )
        finally:
            await conn.close()

    # Routed, not merely received: the sink may write `ticket_received` and the dispatch apart.
    row = run_coroutine(ticket_row())
    while (row is None or row["status"] == "received") and time.monotonic() - sent_at < 5:
        time.sleep(0.1)
        row = run_coroutine(ticket_row())
    assert row is not None and (row["status"], row["lead_unit"]) == ("dispatched", "zjj")

    assert any(f"control room password: {PASSWORD}" in line for line in lines)
    page = browser.new_page(viewport={"width": 1600, "height": 900})
    page.goto(f"http://127.0.0.1:{port}/")
    page.fill("input[name=name]", "值班员")
    page.fill("input[name=secret]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#queues tbody tr[data-unit='zjj']", timeout=10_000)
    assert page.title() == "哨报 · 12345 调度指挥大屏"
    page.screenshot(path=str(artifacts / "control-room-first-page.png"))
    page.close()
    answer_and_dispatch_at_the_desk(browser, f"http://127.0.0.1:{port}", database_url, lines, artifacts)

    # The public surface is closed: no ticket without a login or a key, guesses throttled.
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base, timeout=10) as http:
        assert http.get("/api/queues").status_code == 401
        assert http.post("/api/appeals", json={"text": "x"}).status_code == 401
        assert http.post("/open311/v2/requests.json", data={"service_code": "x"}).status_code == 401

    async def guesses() -> list[int]:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            answers = await asyncio.gather(
                *(
                    http.post("/api/room/login", json={"name": "猜口令者", "secret": f"guess{i}"})
                    for i in range(30)
                )
            )
        return [answer.status_code for answer in answers]

    assert sorted(run_coroutine(guesses())) == [401] * 5 + [429] * 25

    # A simulator killed from outside is started again; the stack stays up.
    marker = f"SHAOBAO_TOPIC_PREFIX={prefix}"
    (killed,) = [pid for pid in processes_with(marker) if command_of(pid)[-2:] == ["units", "simulate"]]
    os.kill(killed, signal.SIGKILL)
    deadline = time.monotonic() + 15
    again: list[int] = []
    while not again and time.monotonic() < deadline:
        time.sleep(0.2)
        again = [
            p for p in processes_with(marker) if command_of(p)[-2:] == ["units", "simulate"] and p != killed
        ]
    assert len(again) == 1 and process.poll() is None, "the unit simulator was not started again"

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0
    time.sleep(0.5)
    assert processes_with(marker) == []
    assert process.stdout is not None
    rest = process.stdout.read()
    assert "units simulate stopped (exit code -9); starting it again in 1 s (1/5 in 10 min)" in rest, rest


RENT_QUESTION = "您好，我想咨询一下住房公积金怎么提取？租房能不能提取公积金，需要带什么材料？"
FUMES = "我要投诉白马桥街道凤凰城小区门口的烧烤摊，每天晚上油烟很大，噪音扰民，请城管处理。"


def answer_and_dispatch_at_the_desk(
    browser: Browser, base: str, database_url: str, lines: list[str], artifacts: Path
) -> None:
    """Issue 19's "done means" on `make run`: the sample knowledge base imported at start, a
    housing-fund question answered on the line from it, a complaint dispatched in one click."""
    said = [line.strip() for line in lines]
    assert "knowledge base sample-county.yaml: 读取 160 条，导入 160 条，未变 0 条，拒绝 0 条" in said
    desk = browser.new_page(viewport={"width": 1600, "height": 900})
    desk.goto(base + "/desk")
    desk.fill("input[name=name]", "王坐席")
    desk.fill("input[name=secret]", PASSWORD)
    desk.click("button[type=submit]")
    desk.wait_for_url(base + "/")
    desk.goto(base + "/desk")
    desk.fill("#phone", "13907310000")
    desk.type("#text", RENT_QUESTION, delay=5)
    rent = desk.locator(".kb-item:has-text('租房提取住房公积金')")
    rent.wait_for(timeout=10_000)
    assert desk.locator(".kb-item").count() == 3
    assert "政策依据：《宁乡市住房公积金提取管理办法》 第九条" in rent.inner_text()
    rent.locator("button.adopt").click()
    desk.click("#do-answer")
    desk.wait_for_selector("#result.ok:has-text('已当场答复'):has-text('工单号')", timeout=15_000)
    answered = desk.inner_text("#result").split("工单号 ")[1].split("（")[0].strip()
    desk.type("#text", FUMES, delay=5)
    desk.wait_for_selector("#triage dd:has-text('市城市管理和综合执法局')")
    desk.click("#do-dispatch")
    desk.wait_for_selector("#result.ok:has-text('已派单'):has-text('工单号')", timeout=15_000)
    dispatched = desk.inner_text("#result").split("工单号 ")[1].split("（")[0].strip()
    desk.screenshot(path=str(artifacts / "desk-make-run.png"))

    async def rows() -> dict[str, tuple[str, str | None]]:
        conn = await asyncpg.connect(database_url)
        try:
            found = await conn.fetch(
                "SELECT ticket_id, status, lead_unit FROM tickets WHERE ticket_id = ANY($1::text[])",
                [answered, dispatched],
            )
            return {r["ticket_id"]: (r["status"], r["lead_unit"]) for r in found}
        finally:
            await conn.close()

    deadline = time.monotonic() + 10
    while len(found := run_coroutine(rows())) < 2 or "received" in {s for s, _ in found.values()}:
        assert time.monotonic() < deadline, found
        time.sleep(0.1)
    assert found == {answered: ("instant", None), dispatched: ("dispatched", "cgj")}
    daily = desk.request.get(base + "/api/reports/daily?format=json").json()
    assert daily["dispositions"]["即办"] >= 1  # the simulator's appeals may be answered too
    assert [(u["entry_id"], u["used"]) for u in daily["kb_used"]] == [("gjj-withdraw-rent", 1)]
    desk.close()
