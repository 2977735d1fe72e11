"""A day of traffic for the record's tests: corpus appeals, then units and the hotline working
the dispatched tickets by a fixed plan, so the expected counts are known exactly."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka.errors import KafkaError

from infra.kafka.event_log import read_ticket_events
from schemas.commands import RecordCallback
from schemas.events import TicketDispatched, TicketEvent
from shaobao.simulation.appeals import fresh_appeals
from tests.integration.conftest import Stack
from tests.integration.kafkatools import produce

ACTION_FIELDS: dict[str, dict[str, Any]] = {
    "sign": {},
    "complete": {"reply": "已办理完毕"},
    "return": {"reason_code": "not_our_duty", "reason": "不属本单位职责"},
}
CALLBACK_OUTCOMES = ("satisfied", "basically_satisfied", "dissatisfied", None)  # None: not called back


def appeals(count: int, seed: int) -> list[dict[str, Any]]:
    found = fresh_appeals(seed)
    return [next(found) for _ in range(count)]


async def feed(stack: Stack, records: list[dict[str, Any]]) -> None:
    encoded = [
        (f"{r['channel']}:{r['source_id']}".encode(), json.dumps(r, ensure_ascii=False).encode())
        for r in records
    ]
    await produce(stack.settings.kafka, stack.names.intake, encoded)


async def topic_events(stack: Stack) -> list[TicketEvent]:
    return await read_ticket_events(stack.settings.kafka, stack.names.events)


async def events_until(
    stack: Stack, done: Callable[[list[TicketEvent]], bool], timeout_s: float = 180.0
) -> list[TicketEvent]:
    """The topic's events once `done` holds for them."""
    deadline = time.monotonic() + timeout_s
    events: list[TicketEvent] = []
    while True:
        try:
            events = await topic_events(stack)
        except (KafkaError, TimeoutError) as exc:
            # A broker busy with other tests' traffic times a read out: read again.
            print(f"reading the events topic failed, again: {exc!r}")
        else:
            if done(events):
                return events
        if time.monotonic() > deadline:
            raise AssertionError(f"the topic did not get there in {timeout_s}s ({len(events)} events)")
        await asyncio.sleep(2.0)


def count_of(kind: str, ticket_ids: set[str] | None = None) -> Callable[[list[TicketEvent]], int]:
    def counted(events: list[TicketEvent]) -> int:
        found = {e.ticket_id for e in events if e.type == kind}
        return len(found if ticket_ids is None else found & ticket_ids)

    return counted


@dataclass
class Plan:
    """What was done to which tickets: the expected numerators of the rates."""

    signed: set[str] = field(default_factory=set)
    completed: set[str] = field(default_factory=set)
    returned: set[str] = field(default_factory=set)
    callbacks: dict[str, str] = field(default_factory=dict)


def dispatched(events: list[TicketEvent], since: set[str] | None = None) -> list[TicketDispatched]:
    """The first dispatch of each ticket, in ticket id order (optionally only `since`'s tickets)."""
    first: dict[str, TicketDispatched] = {}
    for event in events:
        if isinstance(event, TicketDispatched) and (since is None or event.ticket_id in since):
            first.setdefault(event.ticket_id, event)
    return [first[k] for k in sorted(first)]


async def work_units(stack: Stack, tickets: list[TicketDispatched], plan: Plan) -> None:
    """By position: 0-5 of every ten signed, 0-3 of those completed too, 6 returned by its lead."""
    records: dict[str, list[tuple[bytes, bytes]]] = {}
    for n, ticket in enumerate(tickets):
        slot = n % 10
        kinds = ["sign"] * (slot <= 5) + ["complete"] * (slot <= 3) + ["return"] * (slot == 6)
        for kind in kinds:
            fields = ACTION_FIELDS[kind]
            action = {
                "type": kind,
                "action_id": f"plan-{uuid.uuid4().hex[:12]}",
                "ticket_id": ticket.ticket_id,
                "acted_at": datetime.now(UTC).isoformat(),
                **fields,
            }
            topic = stack.names.unit_actions(ticket.lead)
            records.setdefault(topic, []).append((ticket.ticket_id.encode(), json.dumps(action).encode()))
        plan.signed |= {ticket.ticket_id} if slot <= 5 else set()
        plan.completed |= {ticket.ticket_id} if slot <= 3 else set()
        plan.returned |= {ticket.ticket_id} if slot == 6 else set()
    for topic, batch in records.items():
        await produce(stack.settings.kafka, topic, batch)


async def call_back(stack: Stack, ticket_ids: list[str], plan: Plan) -> None:
    """The hotline calls back completed tickets, outcomes in turn (every fourth not called)."""
    batch = []
    for n, ticket_id in enumerate(sorted(ticket_ids)):
        outcome = CALLBACK_OUTCOMES[n % len(CALLBACK_OUTCOMES)]
        if outcome is None:
            continue
        command = RecordCallback(
            command_id=f"control:plan:{uuid.uuid4().hex[:12]}",
            ticket_id=ticket_id,
            issued_at=datetime.now(UTC),
            operator="回访员",
            role="control_room",
            outcome=outcome,
            solved=outcome != "dissatisfied",
        )
        batch.append((ticket_id.encode(), command.model_dump_json().encode()))
        plan.callbacks[ticket_id] = outcome
    await produce(stack.settings.kafka, stack.names.commands, batch)


def expected_counts(events: list[TicketEvent]) -> dict[str, int]:
    """Counts read straight off the topic, without the report's code: what the report must say."""
    events = list({e.event_id: e for e in events}.values())  # a producer retry may repeat one
    final: dict[str, str] = {}
    for event in sorted(events, key=lambda e: (e.ticket_id, e.version)):
        if event.type == "callback_recorded" and getattr(event, "final", False):
            final[event.ticket_id] = str(getattr(event, "outcome", ""))
    outcomes = list(final.values())
    return {
        "received": count_of("ticket_received")(events),
        "dispatched": count_of("ticket_dispatched")(events),
        "completed": count_of("ticket_completed")(events),
        "returns": sum(1 for e in events if e.type == "order_returned"),
        "satisfied": outcomes.count("satisfied"),
        "basically_satisfied": outcomes.count("basically_satisfied"),
        "dissatisfied": outcomes.count("dissatisfied"),
    }
