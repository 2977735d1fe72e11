"""Ticket agent: the only writer of ticket state. Folds commands into events.

A command that is not valid JSON of the contract is a dead letter (see `agents.boundary`),
as is one whose processing fails for any other reason than Kafka being unavailable.
"""

from __future__ import annotations

from typing import Any

from agents.boundary import Record, boundary_for
from agents.outbox import Outbox
from agents.ports import Clock
from domain.alerts import command_alert, refusal_alert
from domain.decide import Decision, decide
from domain.lifecycle.rules import DEFAULT_RULES, LifecycleRules
from domain.limit_alerts import timing_alerts
from domain.ticket import TicketState
from streams.app import Streams
from streams.codecs import decode_command, encode, encode_event


def install(streams: Streams, clock: Clock, rules: LifecycleRules = DEFAULT_RULES) -> Any:
    tickets = streams.tickets
    boundary = boundary_for(streams, "handle_ticket_commands", clock)

    async def publish(decision: Decision, key: bytes) -> None:
        """Events first, then what they call for: alerts, and commands for other tickets; all
        acknowledged by the broker before the table records the new state (`agents.outbox`)."""
        outbox = Outbox()
        for event in decision.events:
            await outbox.send(streams.events, key, encode_event(event))
        for rejected in decision.rejected:
            await outbox.send(streams.alerts, key, encode(command_alert(rejected)))
        for alert in timing_alerts(decision.events):
            await outbox.send(streams.alerts, key, encode(alert))
        if decision.refused is not None:
            await outbox.send(streams.alerts, key, encode(refusal_alert(decision.refused, clock.now())))
        for command in decision.follow_ups:
            await outbox.send(streams.commands, command.ticket_id.encode(), encode(command))
        await outbox.delivered()

    async def handle(record: Record) -> None:
        command = decode_command(record.value or b"")
        stored = tickets.get(command.ticket_id)
        state = TicketState.model_validate_json(stored) if stored is not None else None
        decision = decide(state, command, clock.now(), rules)
        await publish(decision, command.ticket_id.encode())
        if decision.events and decision.state is not None:
            tickets[command.ticket_id] = encode(decision.state)

    @streams.app.agent(streams.commands, name="handle_ticket_commands", concurrency=1)
    async def handle_ticket_commands(stream: Any) -> None:
        async for event in stream.events():
            await boundary.handle(Record.of(event), handle)

    return handle_ticket_commands
