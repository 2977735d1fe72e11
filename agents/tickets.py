"""Ticket agent: the only writer of ticket state. Folds commands into events."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from agents.ports import Clock
from domain.alerts import command_alert, refusal_alert, undecodable_alert
from domain.decide import Decision, decide
from domain.lifecycle.rules import DEFAULT_RULES, LifecycleRules
from domain.limit_alerts import timing_alerts
from domain.ticket import TicketState
from streams.app import Streams
from streams.codecs import decode_command, encode, encode_event


def install(streams: Streams, clock: Clock, rules: LifecycleRules = DEFAULT_RULES) -> Any:
    tickets = streams.tickets

    async def publish(decision: Decision, key: bytes) -> None:
        """Events first, then what they call for: alerts, and commands for other tickets."""
        for event in decision.events:
            await streams.events.send(key=key, value=encode_event(event), force=True)
        for rejected in decision.rejected:
            await streams.alerts.send(key=key, value=encode(command_alert(rejected)), force=True)
        for alert in timing_alerts(decision.events):
            await streams.alerts.send(key=key, value=encode(alert), force=True)
        if decision.refused is not None:
            alert = refusal_alert(decision.refused, clock.now())
            await streams.alerts.send(key=key, value=encode(alert), force=True)
        for command in decision.follow_ups:
            await streams.commands.send(key=command.ticket_id.encode(), value=encode(command), force=True)

    @streams.app.agent(streams.commands, name="handle_ticket_commands", concurrency=1)
    async def handle_ticket_commands(stream: Any) -> None:
        async for raw in stream:
            try:
                command = decode_command(raw)
            except ValidationError as exc:
                # A writer broke the contract: keep it visible to ops, never crash the agent.
                await streams.alerts.send(
                    value=encode(undecodable_alert(raw, str(exc), clock.now())), force=True
                )
                continue
            stored = tickets.get(command.ticket_id)
            state = TicketState.model_validate_json(stored) if stored is not None else None
            decision = decide(state, command, clock.now(), rules)
            await publish(decision, command.ticket_id.encode())
            if decision.events and decision.state is not None:
                tickets[command.ticket_id] = encode(decision.state)

    return handle_ticket_commands
