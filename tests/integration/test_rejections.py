"""`shaobao rejected list` and `replay` against the running pipeline: rejections are shown
with their stable id and where they came from, and a replay says what became of it."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.integration.clitools import shaobao
from tests.integration.conftest import Stack
from tests.integration.kafkatools import appeal, eventually, ticket_for
from tests.integration.topictools import Placed, produce_placed, read_topics

pytestmark = pytest.mark.integration


async def rejected_at(stack: Stack, placed: list[Placed]) -> dict[tuple[int, int], dict[str, Any]]:
    wanted = {(p.partition, p.offset) for p in placed}
    records = await read_topics(stack.settings.kafka, [stack.names.rejected])
    found = {}
    for record in records:
        data = json.loads(record.value or b"")
        where = (data["source"]["partition"], data["source"]["offset"])
        if data["source"]["topic"] == stack.names.intake and where in wanted:
            found[where] = data
    return found if len(found) == len(wanted) else {}


async def test_rejections_are_listed_and_replayed_as_is_or_corrected(
    stack: Stack, db: asyncpg.Connection, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:10]
    broken = f'{{"channel": "phone", "source_id": "{run}-1", "text": "路灯'.encode()
    no_text = appeal(source_id=f"{run}-2")
    del no_text["text"]
    gbk = json.dumps(appeal(source_id=f"{run}-3"), ensure_ascii=False).encode("gbk")
    records = [
        (f"phone:{run}-1".encode(), broken),
        (f"phone:{run}-2".encode(), json.dumps(no_text, ensure_ascii=False).encode()),
        (f"phone:{run}-3".encode(), gbk),
    ]
    placed = await produce_placed(stack.settings.kafka, stack.names.intake, records)
    found = await eventually(lambda: rejected_at(stack, placed))
    ids = [found[(p.partition, p.offset)]["rejection_id"] for p in placed]
    assert ids == [f"{stack.names.intake}:{p.partition}:{p.offset}" for p in placed]

    listed = await shaobao(stack, "rejected", "list", "--limit", "0")
    assert listed.code == 0, listed.err
    for rejection_id, reason, p in zip(
        ids, ("invalid_json", "schema_violation", "invalid_utf8"), placed, strict=True
    ):
        block = listed.out[listed.out.index(rejection_id) :].split("\n")[:4]
        assert block[0].split()[-1] == reason
        assert f"from {stack.names.intake} partition {p.partition} offset {p.offset}" in block[2]
        assert f"key 'phone:{run}-" in block[2]
    assert (
        f'original (utf-8, {len(broken)} bytes): {{"channel": "phone", "source_id": "{run}-1"' in listed.out
    )
    assert f"original (base64, {len(gbk)} bytes)" in listed.out
    assert "text: Field required" in listed.out
    only_utf8 = await shaobao(stack, "rejected", "list", "--reason", "invalid_utf8", "--limit", "0")
    assert ids[2] in only_utf8.out and ids[0] not in only_utf8.out and ids[1] not in only_utf8.out
    shown = re.search(r"^(\d+) shown of (\d+) rejections with reason invalid_utf8$", only_utf8.out, re.M)
    assert shown is not None and shown.group(1) == shown.group(2)

    # As-is, the truncated JSON is still bad: rejected again, under the id of where it was replayed to.
    again = await shaobao(stack, "rejected", "replay", ids[0])
    assert again.code == 1, again.out + again.err
    moved = re.search(
        rf"replayed to {re.escape(stack.names.intake)} (\d+):(\d+), key 'phone:{run}-1'", again.out
    )
    assert moved is not None, again.out
    new_id = f"{stack.names.intake}:{moved.group(1)}:{moved.group(2)}"
    assert f"→ rejected again as {new_id} (invalid_json: invalid JSON" in again.out

    # Corrected from a file, the appeal without text becomes a ticket; the same again is a duplicate.
    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps(appeal(source_id=f"{run}-2"), ensure_ascii=False), encoding="utf-8")
    opened = await shaobao(stack, "rejected", "replay", ids[1], "--corrected", str(fixed))
    assert opened.code == 0, opened.out + opened.err
    ticket = await eventually(lambda: ticket_for(db, f"{run}-2"))
    assert f"(corrected JSON) → ticket {ticket['ticket_id']} opened" in opened.out
    twice = await shaobao(stack, "rejected", "replay", ids[1], "--corrected", str(fixed))
    assert twice.code == 0, twice.out + twice.err
    assert f"→ a duplicate, recorded on ticket {ticket['ticket_id']}" in twice.out

    unknown = await shaobao(stack, "rejected", "replay", f"{stack.names.intake}:0:999999999", "--wait", "0")
    assert unknown.code == 1
    assert "not replayed: no rejection with this id" in unknown.out
