"""Unit-action agent: every unit's `units.<unit>.actions`, to `tickets.commands`.

The unit is the topic the action came on, never the payload; whether it may act is the
ticket agent's decision (`domain.ticket.decide`), which rejects and alerts what it may not. An
action that breaks the contract is a dead letter, with an alert naming the unit.
"""

from __future__ import annotations

from faust.types import AgentT

from agents.boundary import Record, boundary_for
from agents.ports import TimeSource
from agents.subscriptions import each_record
from domain.ticket.lifecycle.actions import command_for_action, unit_of_topic
from streams.app import Streams


def install(streams: Streams, clock: TimeSource) -> AgentT[bytes]:
    prefix = streams.names.prefix
    actions = streams.unit_actions()
    boundary = boundary_for(
        streams, "take_in_unit_actions", clock, unit_of=lambda topic: unit_of_topic(topic, prefix)
    )

    async def take_in(record: Record) -> None:
        unit = unit_of_topic(record.topic, prefix)
        if unit is None:
            return  # not one of the jurisdiction's actions topics, which alone are subscribed
        command = command_for_action(unit, actions.decode(record.value), clock.now())
        await streams.commands.send(command.ticket_id, command)

    return each_record(streams, actions, boundary, take_in)
