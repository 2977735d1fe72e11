"""What one message makes an agent send, delivered before its table moves on.

An agent that keeps a table (the intake's seen keys, the tickets, the orders' views) must not
let the table get ahead of what it sent: Faust writes the table's changelog through the same
producer, and a worker that dies between the two would come back with a table that says
"done" for outputs that never reached the broker (a ticket agent would then take the command
again as already processed, and its events would be lost). So an agent sends through an
`Outbox`, awaits `delivered()` (the broker's acknowledgement of every record), and only then
writes its table.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import faust


class Outbox:
    def __init__(self) -> None:
        self._pending: list[Awaitable[Any]] = []

    async def send(
        self, topic: faust.TopicT, key: bytes | None, value: bytes, partition: int | None = None
    ) -> None:
        self._pending.append(await topic.send(key=key, value=value, partition=partition, force=True))

    async def delivered(self) -> None:
        """Wait for the broker to acknowledge every record sent so far; raises what delivery raised."""
        pending, self._pending = self._pending, []
        await asyncio.gather(*pending)
