"""What a batch makes an agent send, delivered before its tables move on.

An agent that keeps a table (the intake's seen keys, the tickets, the orders' views, the
cluster index) must not let the table get ahead of what it sent: Faust writes the table's
changelog through the same producer, and a worker that dies between the two would come back
with a table that says "done" for outputs that never reached the broker (a ticket agent would
then take the command again as already processed, and its events would be lost).

So such an agent takes its messages in batches (`Boundary.handle_each`): each record's outputs
go into one `Outbox` and its table writes into `Staged` tables, which the next records of the
batch read through; then `delivered()` awaits the broker's acknowledgement of every output of
the batch at once, and only then do the staged writes reach the tables, and only after that
are the batch's offsets acked. One acknowledgement round trip per batch, not per message: the
guarantee is the same, and the throughput is not bounded by the round trip.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, MutableMapping
from typing import TypeVar

from faust.types import EventT, RecordMetadata

from streams.event_context import current, make_current
from streams.typed import Key, TypedTopic

TAKE = 256  # records per batch at most
WITHIN_S = 0.02  # how long a batch waits to fill: the added latency per hop is half this on average
M = TypeVar("M")


class Outbox:
    def __init__(self) -> None:
        self._pending: list[Awaitable[RecordMetadata]] = []

    async def send(self, topic: TypedTopic[M], key: Key, value: M) -> None:
        self._pending.append(await topic.stage(key, value))

    async def forward(
        self, topic: TypedTopic[M], key: bytes, value: bytes, partition: int | None = None
    ) -> None:
        """A record as it came, unread, to `topic` (to `partition` of it, if given)."""
        self._pending.append(await topic.produce(key, value, partition))

    async def delivered(self) -> None:
        """Wait for the broker to acknowledge every record sent so far; raises what delivery raised."""
        pending, self._pending = self._pending, []
        await asyncio.gather(*pending)


_DELETED = None


class Staged:
    """A table seen through the writes of the batch in hand: reads see them, the table does not
    until `write()`. A record's writes join the batch's with `keep()`, or are forgotten with
    `drop()` when its step failed half-way."""

    def __init__(self, table: MutableMapping[str, bytes]) -> None:
        """`table`: a Faust table (a dict in unit tests)."""
        self._table = table
        self._batch: dict[str, tuple[bytes | None, EventT[bytes] | None]] = {}
        self._record: dict[str, tuple[bytes | None, EventT[bytes] | None]] = {}

    def get(self, key: str) -> bytes | None:
        for layer in (self._record, self._batch):
            if key in layer:
                return layer[key][0]
        return self._table.get(key)

    def __setitem__(self, key: str, value: bytes) -> None:
        self._record[key] = (value, current())

    def pop(self, key: str) -> None:
        self._record[key] = (_DELETED, current())

    def keep(self) -> None:
        self._batch.update(self._record)
        self._record.clear()

    def drop(self) -> None:
        self._record.clear()

    def reset(self) -> None:
        self._batch.clear()
        self._record.clear()

    def write(self) -> None:
        """The batch's writes into the table, each under the event it belongs to (its changelog
        partition); call once the batch's outputs are delivered."""
        for key, (value, event) in self._batch.items():
            make_current(event)
            if value is _DELETED:
                self._table.pop(key, None)
            else:
                self._table[key] = value
        self._batch.clear()
