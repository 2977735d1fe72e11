"""A topic of one kind of record: the one place a record is encoded, decoded and produced."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Generic, TypeVar, cast

import faust
from faust.types import EventT, RecordMetadata, StreamT, TopicT

M = TypeVar("M")
# A record's key as an agent has it: an id (UTF-8 on the wire), bytes kept as they came, or none.
Key = str | bytes | None


class TypedTopic(Generic[M]):
    """A Faust topic (raw keys and values) and its records' codec.

    Every record the agents produce goes through `produce`, which hands it to the producer at
    once (`force=True`): without it Faust attaches a send made while an event is processed to
    that event and produces it only once the event is acknowledged: an outbox awaiting the
    broker's acknowledgement before it lets the event go would wait for ever."""

    def __init__(self, topic: TopicT, encode: Callable[[M], bytes], decode: Callable[[bytes], M]) -> None:
        self.topic = topic  # what an agent subscribes to
        self._encode, self._decode = encode, decode

    @property
    def name(self) -> str:
        """The topic's name; a subscription to several topics (every unit's actions) names them all."""
        return ", ".join(self.topic.topics)

    @property
    def partitions(self) -> int | None:
        """The partition count declared for the topic, if any."""
        return self.topic.partitions

    def encode(self, value: M) -> bytes:
        return self._encode(value)

    def decode(self, raw: bytes | None) -> M:
        """The record's value as `M`; raises what the codec raises (pydantic's `ValidationError`)."""
        return self._decode(raw or b"")

    async def send(self, key: str, value: M) -> None:
        """Produce `value` keyed by `key`, without waiting for the broker's acknowledgement."""
        await self.stage(key, value)

    async def stage(self, key: Key, value: M, partition: int | None = None) -> Awaitable[RecordMetadata]:
        """Produce `value`; returns the broker's acknowledgement to await (`agents.outbox`)."""
        return await self.produce(_key_bytes(key), self.encode(value), partition)

    async def produce(
        self, key: bytes | None, value: bytes, partition: int | None = None
    ) -> Awaitable[RecordMetadata]:
        """Produce bytes as they are (a record forwarded unread); returns the acknowledgement."""
        return await self.topic.send(key=key, value=value, partition=partition, force=True)


def _key_bytes(key: Key) -> bytes | None:
    return key.encode() if isinstance(key, str) else key


def events_of(stream: StreamT[bytes]) -> AsyncIterator[EventT[bytes]]:
    """The stream's events one by one, with their messages (raw key, topic, partition, offset)."""
    # Faust declares `StreamT.events` untyped (no_type_check); the stream's own is an async generator.
    return cast(AsyncIterator[EventT[bytes]], stream.events())


def batches_of(stream: StreamT[bytes], size: int, within_s: float) -> AsyncIterator[Sequence[EventT[bytes]]]:
    """The stream's events in batches of at most `size`, each waiting at most `within_s` to fill."""
    # `take_events` is the concrete stream's (`faust.Stream`), not declared on `StreamT`.
    concrete = cast(faust.Stream[bytes], stream)
    return concrete.take_events(size, within=within_s)
