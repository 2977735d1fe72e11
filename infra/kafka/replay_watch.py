"""What became of replayed intake records: read `tickets.commands` and `appeals.rejected` from
where they ended before the replay, until each record's outcome shows up or time runs out.

The intake agent's outputs are deterministic from the intake record (see `domain/intake/ids.py`
and `streams/codecs.py`), so each outcome is recognised by the record's partition and offset:
a `receive_appeal` command whose ticket id ends `-<pp>-<oooooo>`, a `record_duplicate` whose
command id ends `:<p>:<o>`, or a rejection whose id is `<intake topic>:<p>:<o>`.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Literal

from aiokafka import AIOKafkaConsumer, TopicPartition

from streams.kafka_access import KafkaAccess

ASSIGN_TIMEOUT_S = 30.0
Placement = tuple[int, int]  # (partition, offset) on appeals.intake


@dataclass(frozen=True)
class Outcome:
    kind: Literal["ticket", "duplicate", "rejected"]
    detail: str  # the ticket id, or the rejection id, reason and message


def outcome_of(
    topic_kind: str, value: bytes, intake_topic: str, wanted: set[Placement]
) -> tuple[Placement, Outcome] | None:
    """The replayed record a command or rejection answers, if it answers one of `wanted`."""
    try:
        data = json.loads(value)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    for partition, offset in wanted:
        if topic_kind == "rejected" and data.get("rejection_id") == f"{intake_topic}:{partition}:{offset}":
            detail = f"{data['rejection_id']} ({data.get('reason')}: {data.get('message')})"
            return (partition, offset), Outcome("rejected", detail)
        if topic_kind != "commands":
            continue
        command_id, ticket_id = str(data.get("command_id", "")), str(data.get("ticket_id", ""))
        if data.get("type") == "receive_appeal" and ticket_id.endswith(f"-{partition:02d}-{offset:06d}"):
            return (partition, offset), Outcome("ticket", ticket_id)
        if data.get("type") == "record_duplicate" and command_id.endswith(f":{partition}:{offset}"):
            return (partition, offset), Outcome("duplicate", ticket_id)
    return None


class ReplayWatch:
    """Marks the ends of the two topics before a replay, then waits for the outcomes."""

    def __init__(
        self, kafka: KafkaAccess, commands_topic: str, rejected_topic: str, intake_topic: str
    ) -> None:
        self._kinds = {commands_topic: "commands", rejected_topic: "rejected"}
        self._intake = intake_topic
        self._consumer = AIOKafkaConsumer(
            **kafka.client_options(),
            group_id=None,
            enable_auto_commit=False,
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )

    async def start(self) -> None:
        """Connect and remember where both topics end now: outcomes can only come after."""
        await self._consumer.start()
        self._consumer.subscribe(list(self._kinds))
        deadline = time.monotonic() + ASSIGN_TIMEOUT_S
        while len({tp.topic for tp in self._consumer.assignment()}) < len(self._kinds):
            if time.monotonic() > deadline:
                raise TimeoutError(f"cannot read {sorted(self._kinds)}: not all assigned")
            await asyncio.sleep(0.05)
        partitions = list(self._consumer.assignment())
        ends: dict[TopicPartition, int] = await self._consumer.end_offsets(partitions)
        for tp, end in ends.items():
            self._consumer.seek(tp, end)

    async def wait(self, wanted: set[Placement], timeout_s: float) -> dict[Placement, Outcome]:
        found: dict[Placement, Outcome] = {}
        deadline = time.monotonic() + timeout_s
        while len(found) < len(wanted) and time.monotonic() < deadline:
            batch = await self._consumer.getmany(timeout_ms=300)
            for tp, messages in batch.items():
                for message in messages:
                    hit = outcome_of(
                        self._kinds[tp.topic], message.value or b"", self._intake, wanted - set(found)
                    )
                    if hit is not None:
                        found[hit[0]] = hit[1]
        return found

    async def stop(self) -> None:
        await self._consumer.stop()
