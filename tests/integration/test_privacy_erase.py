"""`shaobao privacy erase --phone` on the real store: one person out of every ticket, recorded
event and rejected original that holds them, nobody else touched, and the logs named."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator

import asyncpg
import pytest

from infra.local.services import ServiceEndpoints
from shaobao.launch import Pipeline, isolated_pipeline
from tests.integration.clitools import shaobao
from tests.integration.kafkatools import appeal, encoded, eventually, produce, ticket_for
from tests.integration.topictools import produce_placed

pytestmark = pytest.mark.integration
Stack = Pipeline


@pytest.fixture(scope="module")
def stack(endpoints: ServiceEndpoints, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    # A pipeline of its own: an erased store no longer matches its log (`shaobao verify` and a
    # replay would say so), which must not touch the tickets other tests compare.
    workdir = tmp_path_factory.mktemp("erase")
    with isolated_pipeline(endpoints.kafka, endpoints.database_url, workdir, "er") as run:
        yield run


# `db` (conftest) connects to this module's `stack`: the fixture above overrides the shared one.


async def test_erasing_a_person_rewrites_their_tickets_and_events_and_deletes_raw_copies(
    stack: Stack, db: asyncpg.Connection
) -> None:
    run = uuid.uuid4().hex[:8]
    mobile = f"13{random.randint(6, 9)}{random.randint(0, 99_999_999):08d}"  # noqa: S311 - a test number
    written = f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}"
    theirs = appeal(source_id=f"{run}-theirs", caller={"name": "欧阳娜娜", "phone": f"+86 {mobile}"})
    theirs["text"] += f"我叫欧阳娜娜，电话{written}。"
    mentioned = appeal(source_id=f"{run}-mentioned", caller={"name": "王五", "phone": "13900001111"})
    mentioned["text"] += f"隔壁的电话是{mobile}。"
    other = appeal(source_id=f"{run}-other", caller={"name": "赵六", "phone": "13900002222"})
    await produce(stack.settings.kafka, stack.names.intake, [encoded(r) for r in (theirs, mentioned, other)])
    broken = f'{{"channel": "phone", "source_id": "{run}-bad", "text": "电话{written}'.encode()
    await produce_placed(stack.settings.kafka, stack.names.intake, [(f"phone:{run}-bad".encode(), broken)])

    async def all_in() -> bool:
        rows = [await ticket_for(db, r["source_id"]) for r in (theirs, mentioned, other)]
        rejected = await db.fetchval(
            "SELECT count(*) FROM appeal_rejections WHERE key = $1", f"phone:{run}-bad"
        )
        return all(rows) and rejected == 1

    await eventually(all_in)
    erased = await shaobao(stack, "privacy", "erase", "--phone", f"+86 {written}", "--yes")
    assert erased.code == 0, erased.err
    assert erased.out.splitlines()[0] == (
        "erased from 2 ticket(s) and 2 recorded event(s); deleted 1 rejected original(s) and 0 dead letter(s)"
    )
    assert "tickets.events: the events of the 2 ticket(s)" in erased.out
    assert "appeals.intake holds their original appeals until" in erased.out

    row = await ticket_for(db, theirs["source_id"])
    assert row is not None
    state = json.loads(row["state"])
    assert state["appeal"]["caller"] == {"name": None, "phone": None}
    assert mobile[-4:] not in state["appeal"]["text"] and "欧阳娜娜" not in state["appeal"]["text"]
    received = await db.fetchval(
        "SELECT payload FROM ticket_events WHERE ticket_id = $1 AND type = 'ticket_received'",
        row["ticket_id"],
    )
    assert mobile not in received and "欧阳娜娜" not in received and mobile[-4:] not in received
    neighbour_row = await ticket_for(db, mentioned["source_id"])
    assert neighbour_row is not None
    neighbour = json.loads(neighbour_row["state"])
    assert neighbour["appeal"]["caller"] == {"name": "王五", "phone": "13900001111"}
    assert mobile[-4:] not in neighbour["appeal"]["text"]
    untouched_row = await ticket_for(db, other["source_id"])
    assert untouched_row is not None
    untouched = json.loads(untouched_row["state"])
    assert (untouched["appeal"]["caller"], untouched["appeal"]["text"]) == (other["caller"], other["text"])
    assert await db.fetchval("SELECT count(*) FROM appeal_rejections WHERE key = $1", f"phone:{run}-bad") == 0

    again = await shaobao(stack, "privacy", "erase", "--phone", mobile, "--yes")
    assert again.out.splitlines()[0] == (
        "erased from 0 ticket(s) and 0 recorded event(s); deleted 0 rejected original(s) and 0 dead letter(s)"
    )
    refused = await shaobao(stack, "privacy", "erase", "--phone", "0731-85551234", "--yes")
    assert (refused.code, refused.out) == (2, "error: '0731-85551234' is not a mainland mobile number\n")
