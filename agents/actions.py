"""Unit-action agent: every unit's `units.<unit>.actions`, to `tickets.commands`.

The unit is the topic the action came on, never the payload; whether it may act is the
ticket agent's decision (`domain.decide`), which rejects and alerts what it may not.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from agents.ports import Clock
from domain.alerts import undecodable_action_alert
from domain.lifecycle.actions import command_for_action, unit_of_topic
from schemas.actions import UNIT_ACTION
from streams.app import Streams
from streams.codecs import encode


def install(streams: Streams, clock: Clock) -> Any:
    prefix = streams.names.prefix

    @streams.app.agent(streams.unit_actions(), name="take_in_unit_actions", concurrency=1)
    async def take_in_unit_actions(stream: Any) -> None:
        async for event in stream.events():
            unit = unit_of_topic(event.message.topic, prefix)
            if unit is None:
                continue  # not one of the jurisdiction's actions topics, which alone are subscribed
            raw = event.value or b""
            try:
                action = UNIT_ACTION.validate_json(raw)
            except ValidationError as exc:
                # A unit's system broke the contract: tell ops and the unit, go on with the rest.
                alert = undecodable_action_alert(unit, raw, str(exc), clock.now())
                await streams.alerts.send(key=unit.encode(), value=encode(alert), force=True)
                continue
            command = command_for_action(unit, action, clock.now())
            await streams.commands.send(key=command.ticket_id.encode(), value=encode(command), force=True)

    return take_in_unit_actions
