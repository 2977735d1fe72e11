"""Nothing lost, nothing stalled (issue 13), on the real pipeline: a unit's note holding a NUL
is refused at the API and never reaches the log or the store; an intake record that would have
made a rejection larger than the producer takes becomes exactly one rejection, and the intake
agent goes on."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from domain.access import Principal
from infra.postgres.store import AsyncpgTicketStore
from infra.postgres.tokens import AsyncpgTokenStore
from streams.partitioning import partition_for
from tests.integration.clitools import shaobao
from tests.integration.conftest import Stack
from tests.integration.kafkatools import appeal, eventually, read_all, ticket_for
from tests.integration.lifecycletools import event_types, open_ticket, row_at
from tests.integration.topictools import Placed, read_topics
from tests.integration.webtools import Web, running_web

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def web(stack: Stack) -> AsyncIterator[Web]:
    async with running_web(stack.settings) as running:
        yield running


async def unit_token(stack: Stack, unit: str) -> dict[str, str]:
    store = AsyncpgTicketStore(stack.settings.database_url)
    try:
        issued = await AsyncpgTokenStore(store).issue(Principal(subject=unit, role="unit"))
    finally:
        await store.close()
    return {"Authorization": f"Bearer {issued.token}"}


def verify(stack: Stack) -> subprocess.CompletedProcess[bytes]:
    argv = [sys.executable, "-m", "shaobao.cli", "verify"]
    return subprocess.run(argv, env=stack.env, capture_output=True, timeout=180, check=False)  # noqa: S603


async def test_a_progress_note_holding_a_nul_is_400_and_never_reaches_the_log_or_the_store(
    stack: Stack, web: Web, db: asyncpg.Connection
) -> None:
    ticket = await open_ticket(stack, db)
    zjj = await unit_token(stack, "zjj")
    path = f"/api/units/me/orders/{ticket}/actions"

    def action(kind: str, **fields: str) -> dict[str, Any]:
        header = {"type": kind, "action_id": f"a-{uuid.uuid4().hex[:12]}", "ticket_id": ticket}
        return header | {"acted_at": datetime.now(UTC).isoformat(), **fields}

    signed = await web.client.post(path, json=action("sign"), headers=zjj)
    assert signed.status_code == 202, signed.text
    await row_at(db, ticket, 3)

    bad = action("note_progress", note="已到现场查看\u0000井盖已打开")
    refused = await web.client.post(path, json=bad, headers=zjj)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "unstorable_characters"
    assert refused.json()["fields"] == [
        {
            "field": "note_progress.note",
            "message": "含有无法保存的控制字符 U+0000（第 7 个字符）",
            "type": "unstorable_character",
        }
    ]

    good = action("note_progress", note="已到现场查看，井盖已打开")
    accepted = await web.client.post(path, json=good, headers=zjj)
    assert accepted.status_code == 202, accepted.text
    row = await row_at(db, ticket, 4)  # the good note is folded and stored: the sink goes on
    assert row["status"] == "signed"
    assert await event_types(db, ticket) == [
        "ticket_received",
        "ticket_dispatched",
        "order_signed",
        "progress_noted",
    ]

    actions = await read_all(stack.settings.kafka, stack.names.unit_actions("zjj"))
    sent = [json.loads(value)["type"] for key, value in actions if key == ticket.encode()]
    assert sent == ["sign", "note_progress"]  # the refused note is not on the topic
    assert bad["action_id"].encode() not in b"".join(value or b"" for _, value in actions)

    checked = verify(stack)
    out = checked.stdout.decode()
    assert checked.returncode == 0, out[-3000:]
    assert out.strip().endswith(f"0 differences between {stack.names.events} and the store")


async def produce_to_home_of(stack: Stack, key: bytes, records: list[tuple[bytes, bytes]]) -> list[Placed]:
    """Each (key, value) in order onto the intake partition `key` belongs on (acks=all), so the
    intake agent meets them one after the other; where each landed."""
    producer = AIOKafkaProducer(**stack.settings.kafka.producer_options(max_request_size=2 * 1024 * 1024))
    await producer.start()
    try:
        home = partition_for(key, len(await producer.partitions_for(stack.names.intake)))
        placed = []
        for record_key, value in records:
            meta = await producer.send_and_wait(
                stack.names.intake, key=record_key, value=value, partition=home
            )
            placed.append(Placed(record_key, value, meta.partition, meta.offset))
        return placed
    finally:
        await producer.stop()


async def rejections_at(stack: Stack, where: Placed) -> list[dict[str, Any]]:
    records = await read_topics(stack.settings.kafka, [stack.names.rejected])
    found = [json.loads(r.value or b"") for r in records]
    source = {"topic": stack.names.intake, "partition": where.partition, "offset": where.offset}
    return [f for f in found if f["source"] == source]


async def test_a_record_of_170_000_u0001_is_one_rejection_and_the_intake_agent_goes_on(
    stack: Stack, db: asyncpg.Connection
) -> None:
    run = uuid.uuid4().hex[:10]
    after = appeal(source_id=f"{run}-after")
    key = f"phone:{after['source_id']}".encode()
    junk = "\u0001".encode() * 170_000
    cut = b'"' * (300 * 1024)  # over the 256 KiB cap: kept only in part
    bad, too_big, good = await produce_to_home_of(
        stack,
        key,
        [
            (f"phone:{run}-junk".encode(), junk),
            (f"phone:{run}-big".encode(), cut),
            (key, json.dumps(after, ensure_ascii=False).encode()),
        ],
    )
    assert bad.partition == too_big.partition == good.partition
    assert bad.offset < too_big.offset < good.offset

    # The appeal produced after them becomes a ticket: the intake agent did not stop at them.
    ticket = await eventually(lambda: ticket_for(db, after["source_id"]), timeout_s=60)
    assert ticket["status"] in ("dispatched", "received")

    [on_topic] = await eventually(lambda: rejections_at(stack, bad))
    rejection_id = f"{stack.names.intake}:{bad.partition}:{bad.offset}"
    assert (on_topic["rejection_id"], on_topic["reason"]) == (rejection_id, "invalid_json")
    assert (on_topic["original_encoding"], on_topic["original_length"]) == ("base64", 170_000)
    assert (on_topic["original_truncated"], base64.b64decode(on_topic["original"])) == (False, junk)
    assert on_topic["original_sha256"] == hashlib.sha256(junk).hexdigest()
    assert (on_topic["key"], on_topic["key_encoding"]) == (f"phone:{run}-junk", "utf-8")

    async def stored() -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await db.fetch(
            "SELECT * FROM appeal_rejections WHERE rejection_id = $1", rejection_id
        )
        return rows

    [row] = await eventually(stored)
    assert (row["reason"], row["original_encoding"], row["original_length"]) == (
        "invalid_json",
        "base64",
        170_000,
    )
    assert (row["original_sha256"], row["original_truncated"]) == (hashlib.sha256(junk).hexdigest(), False)
    assert base64.b64decode(row["original"]) == junk
    assert (row["key"], row["key_encoding"], row["key_truncated"]) == (f"phone:{run}-junk", "utf-8", False)

    # The record over the cap: its first 256 KiB, its length and digest; not replayed as it is.
    [big] = await eventually(lambda: rejections_at(stack, too_big))
    assert (big["reason"], big["original_encoding"], big["original_truncated"]) == (
        "too_large",
        "utf-8",
        True,
    )
    assert (big["original"], big["original_length"]) == ('"' * 256 * 1024, 300 * 1024)
    replayed = await shaobao(stack, "rejected", "replay", big["rejection_id"], "--wait", "0")
    assert replayed.code == 1, replayed.out + replayed.err
    digest = hashlib.sha256(cut).hexdigest()
    assert replayed.out.strip() == (
        f"{big['rejection_id']}: not replayed: only the first 262144 of its 307200 bytes were kept "
        f"(sha256 {digest}); replay it with --corrected FILE"
    )
    listed = await shaobao(stack, "rejected", "list", "--limit", "0")
    assert re.search(rf"original \(utf-8, first 262144 of 307200 bytes, sha256 {digest}\)", listed.out)
