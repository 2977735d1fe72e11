"""`shaobao dead list` and `shaobao dead replay` on the running pipeline: a unit's broken action
is set aside with its bytes, shown, fixed and put back, and what became of it is said."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from tests.integration.clitools import shaobao
from tests.integration.conftest import Stack
from tests.integration.kafkatools import eventually
from tests.integration.lifecycletools import open_ticket, row_at
from tests.integration.topictools import produce_placed

pytestmark = pytest.mark.integration


async def test_a_dead_letter_is_listed_then_replayed_corrected_and_processed(
    stack: Stack, db: asyncpg.Connection, tmp_path: Path
) -> None:
    ticket = await open_ticket(stack, db)
    broken = {"type": "sign", "action_id": "dl-1", "ticket_id": ticket, "acted_at": 1772414100}
    topic = stack.names.unit_actions("zjj")
    [placed] = await produce_placed(
        stack.settings.kafka, topic, [(ticket.encode(), json.dumps(broken).encode())]
    )
    ident = f"{topic}:{placed.partition}:{placed.offset}:take_in_unit_actions"

    async def listed() -> dict[str, object] | None:
        ran = await shaobao(stack, "dead", "list", "--agent", "take_in_unit_actions", "--json")
        letters = [json.loads(line) for line in ran.out.splitlines() if line.startswith("{")]
        return next((d for d in letters if d["dead_letter_id"] == ident), None)

    letter = await eventually(listed, timeout_s=30)
    assert (letter["reason"], letter["value_encoding"], json.loads(str(letter["value"]))) == (
        "contract_violation",
        "utf-8",
        broken,
    )
    assert "acted_at" in str(letter["error"])
    human = await shaobao(stack, "dead", "list", "--reason", "contract_violation")
    assert ident in human.out and "dead letters (showing" in human.out

    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps({**broken, "acted_at": datetime.now(UTC).isoformat()}))
    replayed = await shaobao(stack, "dead", "replay", ident, "--corrected", str(fixed), "--wait", "30")
    assert replayed.code == 0, replayed.out + replayed.err
    assert f"{ident}: processed" in replayed.out
    assert (await row_at(db, ticket, 3))["status"] == "signed"


async def test_replaying_an_unknown_id_says_so_and_fails(stack: Stack) -> None:
    ran = await shaobao(stack, "dead", "replay", "nowhere:0:0:take_in_appeals", "--wait", "0")
    assert ran.code == 1 and "nowhere:0:0:take_in_appeals: no such dead letter" in ran.out
