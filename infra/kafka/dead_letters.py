"""`dead.letters` read whole, and a dead letter put back on its source topic.

What became of a replayed record is read off the log: a dead letter for its new position
means it failed again; the app's consumer group committing past it means it was processed."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient

from infra.kafka.topic_read import read_whole_topic
from schemas.dead_letters import DeadLetter
from streams.kafka_access import KafkaAccess


@dataclass(frozen=True)
class StoredLetter:
    letter: DeadLetter | None  # None: not a dead letter of ours (a broken writer's record)
    partition: int
    offset: int


async def read_dead_letters(kafka: KafkaAccess, topic: str) -> list[StoredLetter]:
    """Every dead letter on the topic, oldest first within a partition; each id once (the first)."""
    found: list[StoredLetter] = []
    seen: set[str] = set()
    for record in await read_whole_topic(kafka, topic):
        try:
            letter = DeadLetter.model_validate_json(record.value)
        except ValueError:
            found.append(StoredLetter(None, record.partition, record.offset))
            continue
        if letter.dead_letter_id not in seen:
            seen.add(letter.dead_letter_id)
            found.append(StoredLetter(letter, record.partition, record.offset))
    return found


@dataclass(frozen=True)
class Fate:
    kind: str  # processed | dead_again | not_seen
    detail: str


async def fates(
    kafka: KafkaAccess, dead_topic: str, group: str, placed: dict[str, tuple[str, int, int]], wait_s: float
) -> dict[str, Fate]:
    """For each replayed id, placed at (topic, partition, offset): what became of it within `wait_s`."""
    outcome: dict[str, Fate] = {}
    deadline = time.monotonic() + wait_s
    admin = AIOKafkaAdminClient(**kafka.client_options())
    await admin.start()
    try:
        while True:
            letters = {
                (s.letter.source.topic, s.letter.source.partition, s.letter.source.offset): s.letter
                for s in await read_dead_letters(kafka, dead_topic)
                if s.letter is not None
            }
            committed = {
                (tp.topic, tp.partition): meta.offset
                for tp, meta in (await admin.list_consumer_group_offsets(group)).items()
            }
            for ident, (topic, partition, offset) in placed.items():
                again = letters.get((topic, partition, offset))
                if again is not None:
                    outcome[ident] = Fate(
                        "dead_again", f"{again.dead_letter_id} {again.reason}: {again.error[:200]}"
                    )
                elif committed.get((topic, partition), -1) > offset:
                    outcome[ident] = Fate("processed", f"{topic}:{partition}:{offset}")
            if len(outcome) == len(placed) or time.monotonic() > deadline:
                break
            await asyncio.sleep(1.0)
    finally:
        await admin.close()
    return {
        ident: outcome.get(ident, Fate("not_seen", f"{t}:{p}:{o} not processed yet"))
        for ident, (t, p, o) in placed.items()
    }
