"""`shaobao import mailbox|csv` against the running pipeline: the sample letters and legacy
rows become tickets, refused ones land on `appeals.rejected` and in the summary, and a
second import makes no second ticket."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.integration.clitools import shaobao
from tests.integration.conftest import Stack
from tests.integration.kafkatools import eventually
from tests.integration.topictools import read_topics

pytestmark = pytest.mark.integration
SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
MAIL_IDS = {
    "01": "20261124081502.4F2A1@mail.163.com",
    "02": "6a1f0c2e.1b2c.18f3d2a9b7c.Coremail.wangkun@126.com",
    "03": "web-form-20261126-000318@mayor.example.gov.cn",
    "04": "CAK3x9Q1m2x-hT7=r8v@mail.gmail.com",
    "05": "sha256:a3cebaa2993823e024f0553385762564a54dc6e7",
}


async def tickets_by_source(
    db: asyncpg.Connection, channel: str, source_ids: list[str]
) -> dict[str, dict[str, Any]]:
    rows = await db.fetch(
        "SELECT state FROM tickets WHERE state->'appeal'->>'channel' = $1"
        " AND state->'appeal'->>'source_id' = ANY($2::text[])",
        channel,
        source_ids,
    )
    states = [json.loads(row["state"]) for row in rows]
    return {state["appeal"]["source_id"]: state for state in states}


async def import_rejections(stack: Stack, prefix: str) -> list[dict[str, Any]]:
    records = await read_topics(stack.settings.kafka, [stack.names.rejected])
    found = [json.loads(r.value or b"") for r in records]
    return [f for f in found if f["rejection_id"].startswith(prefix)]


async def test_the_sample_mailbox_imports_five_letters_and_rejects_the_empty_one(
    stack: Stack, db: asyncpg.Connection
) -> None:
    ran = await shaobao(stack, "import", "mailbox", str(SAMPLES / "mailbox"))
    assert ran.code == 1, ran.out + ran.err
    assert f"mailbox: read 6, accepted 5 (sent to {stack.names.intake}), duplicates 0, rejected 1" in ran.out
    assert "  rejected empty_mail (1):\n" in ran.out
    assert f"    {SAMPLES / 'mailbox' / '06-empty.eml'}: the mail has neither a subject nor a body" in ran.out
    assert "note" in ran.out and "attachments not imported: photo.jpg" in ran.out
    # Not a terminal: the progress bar is plain lines on stderr, the last one complete.
    assert ran.err.strip().splitlines()[-1] == "import mailbox [" + "#" * 30 + "] 6/6 100%"

    async def all_five() -> dict[str, dict[str, Any]] | None:
        found = await tickets_by_source(db, "mailbox", list(MAIL_IDS.values()))
        return found if len(found) == 5 else None

    tickets = await eventually(all_five)
    gbk = tickets[MAIL_IDS["02"]]["appeal"]
    assert gbk["text"].startswith("黄材镇龙泉村村道塌陷无人处理（王堃）\n尊敬的市长：\n")
    assert gbk["caller"] == {"name": "王堃", "phone": "0731-87654321"}
    assert gbk["received_at"] == "2026-11-25T13:40:11Z"
    qp = tickets[MAIL_IDS["01"]]["appeal"]
    assert qp["caller"] == {"name": "周建国", "phone": "13907312468"} and "\r" not in qp["text"]
    html = tickets[MAIL_IDS["03"]]["appeal"]["text"]
    assert html == (
        "凤凰城小区下水道堵塞\n市长信箱：\n白马桥街道凤凰城小区门口的下水道堵塞，污水外溢到路面，"
        "臭味很大。 已经持续一周。\n请相关部门疏通。\n署名：李女士"
    )
    assert tickets[MAIL_IDS["05"]]["appeal"]["text"].startswith("团结菜市场占道\n历经铺街道")

    refused = await eventually(lambda: import_rejections(stack, "import:mailbox:06-empty.eml:"))
    assert len(refused) == 1
    assert refused[0]["reason"] == "schema_violation"
    assert refused[0]["message"].startswith("empty_mail: ")
    assert refused[0]["key"] == "mailbox:empty-20261129@mail.example.com"
    assert refused[0]["original"].encode() == (SAMPLES / "mailbox" / "06-empty.eml").read_bytes()

    # Again: the intake agent keeps one ticket per Message-ID and records the repeat on it.
    again = await shaobao(stack, "import", "mailbox", str(SAMPLES / "mailbox" / "02-gbk-base64.eml"))
    assert again.code == 0, again.out + again.err

    async def recorded() -> bool:
        found = await tickets_by_source(db, "mailbox", [MAIL_IDS["02"]])
        duplicates: int = found[MAIL_IDS["02"]]["duplicates"]
        return duplicates == 1

    await eventually(recorded)
    assert len(await tickets_by_source(db, "mailbox", list(MAIL_IDS.values()))) == 5


async def test_a_legacy_csv_imports_its_good_rows_and_reports_each_bad_row_by_line(
    stack: Stack, db: asyncpg.Connection, tmp_path: Path
) -> None:
    # The sample, with its own ticket numbers, saved the way Excel on Chinese Windows does: GBK.
    text = (SAMPLES / "legacy_tickets.csv").read_text(encoding="utf-8-sig").replace("LG-2025-", "GBK-25-")
    path = tmp_path / "old-hotline.csv"
    path.write_bytes(text.encode("gbk"))

    ran = await shaobao(stack, "import", "csv", str(path))
    assert ran.code == 1, ran.out + ran.err
    lines = ran.out.splitlines()
    future = re.search(r"received_at is \d+ h in the future \(at most 24 h is accepted\)", ran.out)
    assert future is not None, ran.out
    assert lines[0] == f"{path}: gbk, 10 rows; columns ignored: 承办单位; 1 blank lines skipped"
    assert lines[1] == f"csv: read 10, accepted 5 (sent to {stack.names.intake}), duplicates 1, rejected 4"
    assert lines[2:9] == [
        "  rejected bad_time (2):",
        "    line 7: 来电时间 '2025-12-03' is not a date and time",
        "    line 11: 来电时间: Value error, " + future.group(0),
        "  rejected invalid_field (1):",
        "    line 9: 诉求内容: String should have at least 1 character",
        "  rejected unknown_channel (1):",
        "    line 6: 渠道 '传真' is not a known channel",
    ]
    assert "    line 12: phone:legacy:GBK-25-000101 (first at line 2)" in ran.out

    wanted = [f"legacy:GBK-25-{n:06d}" for n in (101, 102, 103, 107, 109)]

    async def five() -> list[dict[str, Any]] | None:
        found = [
            t
            for channel in ("phone", "web", "mailbox", "transfer_110")
            for t in (await tickets_by_source(db, channel, wanted)).values()
        ]
        return found if len(found) == 5 else None

    tickets = {t["appeal"]["source_id"]: t for t in await eventually(five)}
    first = tickets["legacy:GBK-25-000101"]
    assert first["appeal"]["received_at"] == "2025-12-01T01:15:00Z"
    assert first["appeal"]["caller"] == {"name": "曹女士", "phone": "13807311234"}
    second = tickets["legacy:GBK-25-000102"]["appeal"]
    assert second["caller"]["phone"] == "18939595216"  # written with full-width digits
    assert second["text"].endswith("门也坏了。\n长期没人打扫，请环卫部门加强管理。")
    assert {t["appeal"]["channel"] for t in tickets.values()} == {"phone", "web", "mailbox", "transfer_110"}

    async def duplicate_recorded() -> bool:
        found = await tickets_by_source(db, "phone", ["legacy:GBK-25-000101"])
        duplicates: int = found["legacy:GBK-25-000101"]["duplicates"]
        return duplicates == 1

    await eventually(duplicate_recorded)

    refused = await eventually(lambda: import_rejections(stack, "import:csv:old-hotline.csv:"))
    assert sorted(r["source"]["offset"] for r in refused) == [6, 7, 9, 11]
    row6 = next(r for r in refused if r["source"]["offset"] == 6)
    assert row6["original_encoding"] == "utf-8"  # the row as text, after the header that names its cells
    assert row6["original"].startswith("工单编号,来电时间,诉求内容,")
    assert "GBK-25-000104,2025-12-02 16:45," in row6["original"]
    assert row6["key"] == "传真:legacy:GBK-25-000104"

    # An import rejection is fixed in the file, not replayed as it is.
    replay = await shaobao(stack, "rejected", "replay", row6["rejection_id"], "--wait", "0")
    assert replay.code == 1
    assert "fix the file and import it again" in replay.out


async def test_a_csv_without_the_required_columns_sends_nothing(stack: Stack, tmp_path: Path) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("编号,内容\nA1,路灯坏了\n", encoding="utf-8")
    ran = await shaobao(stack, "import", "csv", str(path))
    assert ran.code == 2
    assert ran.out == ""
    assert "missing required columns: 工单编号, 来电时间, 诉求内容" in ran.err
