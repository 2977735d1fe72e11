"""The bad-input corpus and good appeals through the running pipeline: every input ends as
exactly one ticket, one duplicate on a ticket, or one rejection with its reason and its
original bytes; the worker goes on."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from tests.badinputs import BadInput, bad_inputs, good_appeal
from tests.integration.conftest import Stack
from tests.integration.kafkatools import eventually
from tests.integration.topictools import Placed, produce_placed, read_topics

pytestmark = pytest.mark.integration
GOOD = 20
CORPUS_KINDS = 98
REJECTED = {"schema_violation": 51, "invalid_json": 15, "invalid_utf8": 7, "too_large": 2, "bad_key": 2}
ODD_TICKETS = 20  # odd but acceptable inputs, each one ticket (one of them is sent again)


async def tickets_of(db: asyncpg.Connection, run: str) -> dict[str, dict[str, Any]]:
    rows = await db.fetch(
        "SELECT ticket_id, state FROM tickets WHERE state->'appeal'->>'source_id' LIKE $1", f"{run}%"
    )
    states = [json.loads(row["state"]) for row in rows]
    counts = Counter(state["appeal"]["source_id"] for state in states)
    assert all(n == 1 for n in counts.values()), f"a source id with two tickets: {counts.most_common(3)}"
    return {state["appeal"]["source_id"]: state for state in states}


async def rejections_of(stack: Stack, placed: list[Placed]) -> list[dict[str, Any]]:
    mine = {(p.partition, p.offset) for p in placed}
    records = await read_topics(stack.settings.kafka, [stack.names.rejected])
    found = [json.loads(r.value or b"") for r in records]
    return [
        f
        for f in found
        if f["source"]["topic"] == stack.names.intake
        and (f["source"]["partition"], f["source"]["offset"]) in mine
    ]


def kept(text: str | None, encoding: str) -> bytes | None:
    if text is None:
        return None
    return base64.b64decode(text) if encoding == "base64" else text.encode()


def original_of(rejection: dict[str, Any]) -> bytes:
    """The original as the rejection keeps it: the first 256 KiB, checked against its length and digest."""
    data = kept(rejection["original"], rejection["original_encoding"]) or b""
    assert rejection["original_truncated"] == (rejection["original_length"] > len(data))
    return data


async def test_every_bad_or_odd_input_is_exactly_one_ticket_duplicate_or_rejection(
    stack: Stack, db: asyncpg.Connection
) -> None:
    run = f"bad{uuid.uuid4().hex[:8]}"
    inputs = bad_inputs(run, datetime.now(UTC))
    goods = [
        good_appeal(f"{run}-good-{n:02d}", text=f"第{n}号：{good_appeal('x')['text']}") for n in range(GOOD)
    ]
    records: list[tuple[bytes | None, bytes | None]] = [(i.key, i.value) for i in inputs]
    # The good ones go last: they show the worker went on after every bad one.
    records += [
        (f"phone:{g['source_id']}".encode(), json.dumps(g, ensure_ascii=False).encode()) for g in goods
    ]
    placed = await produce_placed(stack.settings.kafka, stack.names.intake, records)

    expect_rejected = [
        (i, p) for i, p in zip(inputs, placed, strict=False) if i.expect not in ("ticket", "duplicate")
    ]
    expect_tickets = {i.source_id for i in inputs if i.expect == "ticket"} | {g["source_id"] for g in goods}
    assert len(inputs) == CORPUS_KINDS and len(expect_rejected) == sum(REJECTED.values()) == 77
    assert len(expect_tickets) == ODD_TICKETS + GOOD == 40

    async def settled() -> bool:
        tickets = await tickets_of(db, run)
        if set(tickets) != expect_tickets or tickets[f"{run}-dup"]["duplicates"] != 1:
            return False
        return len(await rejections_of(stack, placed)) >= len(expect_rejected)

    await eventually(settled, timeout_s=45)
    await asyncio.sleep(1.5)  # time for anything doubled to show up

    tickets = await tickets_of(db, run)
    rejections = await rejections_of(stack, placed)
    by_position = {(r["source"]["partition"], r["source"]["offset"]): r for r in rejections}
    assert len(rejections) == len(by_position) == len(expect_rejected) == 77
    assert Counter(r["reason"] for r in rejections) == REJECTED
    for bad, where in expect_rejected:
        rejected = by_position[(where.partition, where.offset)]
        assert rejected["reason"] == bad.expect, (bad.kind, rejected["message"])
        value = bad.value or b""
        data = original_of(rejected)  # all of it, or 256 KiB less a character cut at the end
        assert value.startswith(data) and len(data) > min(len(value), 256 * 1024) - 4, bad.kind
        assert rejected["original_length"] == len(value), bad.kind
        assert rejected["original_sha256"] == hashlib.sha256(value).hexdigest(), bad.kind
        assert kept(rejected["key"], rejected["key_encoding"]) == bad.key, bad.kind
        assert rejected["rejection_id"] == f"{stack.names.intake}:{where.partition}:{where.offset}"
    # inputs = tickets + duplicates + rejections, each input counted once.
    duplicates = sum(state["duplicates"] for state in tickets.values())
    assert (len(tickets), duplicates, len(rejections)) == (40, 1, 77)
    assert len(tickets) + duplicates + len(rejections) == len(inputs) + GOOD == 118
    assert_kept_as_written(inputs, tickets)


def assert_kept_as_written(inputs: list[BadInput], tickets: dict[str, dict[str, Any]]) -> None:
    """Injection strings and rare characters are stored exactly as sent."""
    sent = {i.kind: json.loads(i.value or b"") for i in inputs if i.expect == "ticket"}
    for kind in ("sql_injection_text", "html_script_text", "emoji_only", "rare_cjk"):
        assert tickets[sent[kind]["source_id"]]["appeal"]["text"] == sent[kind]["text"], kind
    phone = tickets[sent["fullwidth_phone"]["source_id"]]["appeal"]["caller"]["phone"]
    assert phone == "１３８０７３１１２３４"
