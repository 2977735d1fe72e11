"""The unit simulator and the callback simulator on the real stack: twenty corpus appeals are
worked by simulated departments and followed up by the simulated hotline until each ticket
rests, and each ticket's events are exactly those the pure policies give it, in some order of
the units' and the hotline's steps (they act concurrently, so steps due close together may
reach the ticket either way round)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from domain.intake.ids import receive_command
from domain.jurisdiction import Jurisdiction
from domain.ticket.lifecycle.rules import LifecycleRules
from schemas.appeal import Appeal
from schemas.triage import TriageDecision
from shaobao.bootstrap import SystemClock, timing_rules
from shaobao.simulation.appeals import corpus_appeals
from shaobao.simulation.hotline import CallbackSimulator
from shaobao.simulation.units import UnitSimulator
from tests.integration.conftest import Stack
from tests.integration.kafkatools import encoded, eventually, produce
from tests.unit.hotline_day import Day, replay, signature

pytestmark = pytest.mark.integration
SPEED = 60.0
SEED = 7
APPEALS = 20
# Where a ticket rests: ended, or with a person (a manual ticket no one is suggested for).
RESTING = {"closed", "instant", "transferred", "manual"}


def twenty_appeals() -> list[dict[str, Any]]:
    """Twenty different problems from the corpus (no two alike, so none is merged), fresh ids."""
    run = uuid.uuid4().hex[:8]
    seen: set[str] = set()
    picked: list[dict[str, Any]] = []
    for record in corpus_appeals():
        text = str(record["text"])
        if text[:12] in seen:
            continue
        seen.add(text[:12])
        received = datetime.now(UTC).isoformat()
        picked.append({**record, "source_id": f"usim-{run}-{len(picked)}", "received_at": received})
        if len(picked) == APPEALS:
            return picked
    raise AssertionError("the corpus has fewer than twenty appeals")


async def settled(db: asyncpg.Connection, source_ids: list[str]) -> list[asyncpg.Record] | None:
    rows = await db.fetch(
        "SELECT ticket_id, status, version FROM tickets"
        " WHERE state->'appeal'->>'source_id' = ANY($1::text[])",
        source_ids,
    )
    if len(rows) < len(source_ids) or any(row["status"] not in RESTING for row in rows):
        return None
    return list(rows)


async def first_day(
    jurisdiction: Jurisdiction, rules: LifecycleRules, db: asyncpg.Connection, ticket_id: str
) -> Day:
    """The in-memory day of this ticket, received with the appeal and triage it got."""
    first = json.loads(
        await db.fetchval("SELECT payload FROM ticket_events WHERE ticket_id = $1 AND version = 1", ticket_id)
    )
    appeal, triage = Appeal.model_validate(first["appeal"]), TriageDecision.model_validate(first["triage"])
    day = Day(jurisdiction, rules, seed=SEED)
    at = datetime.fromisoformat(first["occurred_at"])
    day.handle(receive_command(appeal, ticket_id, triage, at), at)
    return day


def timeline(day: Day) -> list[str]:
    return [f"{event.type}@{event.occurred_at.astimezone(UTC):%H:%M:%S}" for event in day.log]


async def test_simulated_units_and_hotline_bring_every_ticket_to_rest_with_the_predicted_events(
    stack: Stack, db: asyncpg.Connection, jurisdiction: Jurisdiction
) -> None:
    stop = asyncio.Event()
    units = UnitSimulator(stack.settings, speed=SPEED, seed=SEED)
    hotline = CallbackSimulator(stack.settings, speed=SPEED, seed=SEED)
    running = [asyncio.create_task(units.run(stop)), asyncio.create_task(hotline.run(stop))]
    appeals = twenty_appeals()
    try:
        await produce(stack.settings.kafka, stack.names.intake, [encoded(a) for a in appeals])
        source_ids = [a["source_id"] for a in appeals]
        rows = await eventually(lambda: settled(db, source_ids), timeout_s=180)
        await asyncio.sleep(3.0)  # nothing may move once at rest
        again = await settled(db, source_ids)
        assert again is not None
        assert {r["ticket_id"]: r["version"] for r in again} == {r["ticket_id"]: r["version"] for r in rows}
    finally:
        stop.set()
        await asyncio.gather(*running)
    by_type: Counter[str] = Counter()
    rules = timing_rules(jurisdiction, SystemClock())  # the worker's
    for row in rows:
        ticket = row["ticket_id"]
        events = [
            (r["type"], json.loads(r["payload"]))
            for r in await db.fetch(
                "SELECT type, payload FROM ticket_events WHERE ticket_id = $1 ORDER BY version", ticket
            )
        ]
        assert [t for t, _ in events].count("command_rejected") == 0, (ticket, events)
        happened = [signature(payload) for _, payload in events]
        day = await first_day(jurisdiction, rules, db, ticket)
        explained = replay(day.fork(), happened)
        if explained is None:
            day.run()  # earliest step first, for the message
        assert explained is not None, f"{ticket}\nhappened: {happened}\nearliest first: {timeline(day)}"
        by_type[row["status"]] += 1
    assert sum(by_type.values()) == APPEALS
    assert by_type["closed"] >= APPEALS // 2, by_type
    assert units.actions_sent > 0 and hotline.commands_sent > 0
