"""Ticket agent: the only writer of ticket state. Folds commands into events.

A command that is not valid JSON of the contract is a dead letter (see `agents.boundary`),
as is one whose processing fails for any other reason than Kafka being unavailable.
"""

from __future__ import annotations

from datetime import datetime

from faust.types import AgentT

from agents.boundary import Record, boundary_for
from agents.outbox import Outbox, Staged
from agents.ports import TimeSource
from agents.subscriptions import each_batch
from domain.alerts import command_alert, refusal_alert
from domain.ticket import Decision, TicketState
from domain.ticket.decide import decide
from domain.ticket.lifecycle.rules import DEFAULT_RULES, LifecycleRules
from domain.time_limits import timing_alerts
from streams.app import Streams
from streams.codecs import encode


async def publish(streams: Streams, decision: Decision, key: str, now: datetime, outbox: Outbox) -> None:
    """Events first, then what they call for: alerts, and commands for other tickets; all
    acknowledged by the broker before the table records the new state (`agents.outbox`)."""
    for event in decision.events:
        await outbox.send(streams.events, key, event)
    for rejected in decision.rejected:
        await outbox.send(streams.alerts, key, command_alert(rejected))
    for alert in timing_alerts(decision.events):
        await outbox.send(streams.alerts, key, alert)
    if decision.refused is not None:
        await outbox.send(streams.alerts, key, refusal_alert(decision.refused, now))
    for command in decision.follow_ups:
        await outbox.send(streams.commands, command.ticket_id, command)


def install(streams: Streams, clock: TimeSource, rules: LifecycleRules = DEFAULT_RULES) -> AgentT[bytes]:
    tickets = Staged(streams.tickets)
    boundary = boundary_for(streams, "handle_ticket_commands", clock, ticket_keys=True)

    async def handle(record: Record, outbox: Outbox) -> None:
        command = streams.commands.decode(record.value)
        stored = tickets.get(command.ticket_id)
        state = TicketState.model_validate_json(stored) if stored is not None else None
        decision = decide(state, command, clock.now(), rules)
        await publish(streams, decision, command.ticket_id, clock.now(), outbox)
        if decision.events and decision.state is not None:
            tickets[command.ticket_id] = encode(decision.state)

    return each_batch(streams, streams.commands, boundary, handle, (tickets,))
