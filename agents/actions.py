"""Unit-action agent: every unit's `units.<unit>.actions`, to `tickets.commands`.

The unit is the topic the action came on, never the payload; whether it may act is the
ticket agent's decision (`domain.ticket.decide`), which rejects and alerts what it may not. An
action that breaks the contract is a dead letter, with an alert naming the unit.
"""

from __future__ import annotations

from typing import Any

from agents.boundary import Record, boundary_for
from agents.ports import TimeSource
from domain.ticket.lifecycle.actions import command_for_action, unit_of_topic
from schemas.actions import UNIT_ACTION
from streams.app import Streams
from streams.codecs import encode


def install(streams: Streams, clock: TimeSource) -> Any:
    prefix = streams.names.prefix
    boundary = boundary_for(
        streams, "take_in_unit_actions", clock, unit_of=lambda topic: unit_of_topic(topic, prefix)
    )

    async def take_in(record: Record) -> None:
        unit = unit_of_topic(record.topic, prefix)
        if unit is None:
            return  # not one of the jurisdiction's actions topics, which alone are subscribed
        action = UNIT_ACTION.validate_json(record.value or b"")
        command = command_for_action(unit, action, clock.now())
        await streams.commands.send(key=command.ticket_id.encode(), value=encode(command), force=True)

    @streams.app.agent(streams.unit_actions(), name="take_in_unit_actions", concurrency=1)
    async def take_in_unit_actions(stream: Any) -> None:
        async for event in stream.events():
            await boundary.handle(Record.of(event), take_in)

    return take_in_unit_actions
