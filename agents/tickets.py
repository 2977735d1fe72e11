"""Ticket agent: the only writer of ticket state. Folds commands into events.

A command that is not valid JSON of the contract is a dead letter (see `agents.boundary`),
as is one whose processing fails for any other reason than Kafka being unavailable.
"""

from __future__ import annotations

from typing import Any

from agents.boundary import Record, boundary_for
from agents.outbox import TAKE, WITHIN_S, Outbox, Staged
from agents.ports import TimeSource
from domain.alerts import command_alert, refusal_alert
from domain.ticket.decide import Decision, decide
from domain.ticket.fold import TicketState
from domain.ticket.lifecycle.rules import DEFAULT_RULES, LifecycleRules
from domain.time_limits.alerts import timing_alerts
from streams.app import Streams
from streams.codecs import decode_command, encode, encode_event


def install(streams: Streams, clock: TimeSource, rules: LifecycleRules = DEFAULT_RULES) -> Any:
    tickets = Staged(streams.tickets)
    boundary = boundary_for(streams, "handle_ticket_commands", clock, ticket_keys=True)

    async def publish(decision: Decision, key: bytes, outbox: Outbox) -> None:
        """Events first, then what they call for: alerts, and commands for other tickets; all
        acknowledged by the broker before the table records the new state (`agents.outbox`)."""
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

    async def handle(record: Record, outbox: Outbox) -> None:
        command = decode_command(record.value or b"")
        stored = tickets.get(command.ticket_id)
        state = TicketState.model_validate_json(stored) if stored is not None else None
        decision = decide(state, command, clock.now(), rules)
        await publish(decision, command.ticket_id.encode(), outbox)
        if decision.events and decision.state is not None:
            tickets[command.ticket_id] = encode(decision.state)

    @streams.app.agent(streams.commands, name="handle_ticket_commands", concurrency=1)
    async def handle_ticket_commands(stream: Any) -> None:
        async for events in stream.take_events(TAKE, within=WITHIN_S):
            await boundary.handle_each([Record.of(event) for event in events], handle, (tickets,))

    return handle_ticket_commands
