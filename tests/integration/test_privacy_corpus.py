"""The whole labelled corpus through the running pipeline: no work order on any
`units.*.orders` topic carries a caller's full phone number or name (DESIGN.md: masked
caller; reports carry no caller at all)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from domain.jurisdiction import Jurisdiction
from domain.privacy.masking import mask_name, mask_phone
from tests.integration.conftest import Stack
from tests.integration.kafkatools import eventually
from tests.integration.topictools import Record, produce_placed, read_topics

pytestmark = pytest.mark.integration
CORPUS = Path(__file__).resolve().parents[2] / "data" / "corpus" / "appeals_labeled.jsonl"
DIGIT_RUNS = re.compile(r"\d{7,}")


def corpus_appeals(run: str) -> list[dict[str, Any]]:
    """The corpus as appeals, a year earlier: its last appeals are dated December 2026, which
    intake refuses as too far ahead on a clock that reads earlier than that."""
    appeals = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        appeal = {k: row[k] for k in ("channel", "text", "address", "caller") if k in row}
        received_at = datetime.fromisoformat(row["received_at"]) - timedelta(days=365)
        appeals.append({**appeal, "received_at": received_at.isoformat(), "source_id": f"{run}-{row['id']}"})
    return appeals


async def dispatched(db: asyncpg.Connection, run: str, total: int) -> dict[str, asyncpg.Record] | None:
    rows = await db.fetch(
        "SELECT ticket_id, status, lead_unit, co_units, state->'appeal'->>'source_id' AS source_id,"
        " (state->'triage'->>'caller_withheld')::boolean AS withheld"
        " FROM tickets WHERE state->'appeal'->>'source_id' LIKE $1",
        f"{run}-%",
    )
    if len(rows) < total:
        return None
    return {row["ticket_id"]: row for row in rows if row["status"] == "dispatched"}


async def test_no_work_order_from_the_whole_corpus_carries_a_full_phone_or_name(
    stack: Stack, db: asyncpg.Connection, jurisdiction: Jurisdiction
) -> None:
    run = f"priv{uuid.uuid4().hex[:8]}"
    appeals = corpus_appeals(run)
    records = [
        (f"{a['channel']}:{a['source_id']}".encode(), json.dumps(a, ensure_ascii=False).encode())
        for a in appeals
    ]
    await produce_placed(stack.settings.kafka, stack.names.intake, records)
    tickets = await eventually(lambda: dispatched(db, run, len(appeals)), timeout_s=60)
    by_source = {a["source_id"]: a for a in appeals}
    topics = [stack.names.unit_orders(unit) for unit in jurisdiction.unit_codes]

    async def every_order_out() -> list[Record] | None:
        found = await read_topics(stack.settings.kafka, topics)
        mine = [r for r in found if json.loads(r.value or b"")["ticket_id"] in tickets]
        held = {(json.loads(r.value or b"")["ticket_id"], json.loads(r.value or b"")["unit"]) for r in mine}
        wanted = {(t, unit) for t, row in tickets.items() for unit in (row["lead_unit"], *row["co_units"])}
        return mine if wanted <= held else None

    orders = await eventually(every_order_out, timeout_s=60)
    phones = {a["caller"]["phone"] for a in appeals if a["caller"].get("phone")}
    assert len(appeals) == 420 and len(phones) == 382
    assert len(tickets) > 300 and len(orders) >= len(tickets)
    reports = masked = 0
    for record in orders:
        raw = (record.value or b"").decode()
        order = json.loads(raw)
        appeal = by_source[tickets[order["ticket_id"]]["source_id"]]
        caller = appeal["caller"]
        leaked = set(DIGIT_RUNS.findall(raw)) & phones
        assert not leaked, f"{record.topic} {order['order_id']} carries {leaked}"
        name = caller.get("name")
        if name and mask_name(name) != name:
            assert name not in raw, f"{order['order_id']} carries the caller's name"
        # A report, or what may be one (triage withheld the caller): no caller at all.
        if order["appeal_type"] == "report" or tickets[order["ticket_id"]]["withheld"]:
            reports += 1
            assert order["caller"] is None
            if name:
                assert name not in raw
        else:
            masked += 1
            assert order["caller"] == {
                "name": mask_name(name) if name else None,
                "phone": mask_phone(caller["phone"]) if caller.get("phone") else None,
            }
    assert reports > 0 and masked > 0
