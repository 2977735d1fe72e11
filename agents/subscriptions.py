"""How an agent takes its topic: one record at a time, or in batches through an outbox.

Every agent reads the same way (its boundary around each record or batch, `agents.boundary`);
what differs is the step it runs. The agent bodies here are the only loops over a stream.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from faust.types import AgentT, StreamT

from agents.boundary import Boundary, Record, Step
from agents.outbox import TAKE, WITHIN_S, Staged
from streams.app import Streams
from streams.typed import TypedTopic, batches_of, events_of

M = TypeVar("M")


def each_record(
    streams: Streams, topic: TypedTopic[M], boundary: Boundary, work: Callable[[Record], Awaitable[None]]
) -> AgentT[bytes]:
    """The agent `boundary.agent` on `topic`: `work` for each record, one at a time."""

    async def agent(stream: StreamT[bytes]) -> None:
        async for event in events_of(stream):
            await boundary.handle(Record.of(event), work)

    return _install(streams, topic, boundary.agent, agent)


def each_batch(
    streams: Streams, topic: TypedTopic[M], boundary: Boundary, step: Step, tables: Sequence[Staged]
) -> AgentT[bytes]:
    """The agent `boundary.agent` on `topic`: `step` for each record of a batch, its outputs
    delivered before `tables` are written (`Boundary.handle_each`)."""

    async def agent(stream: StreamT[bytes]) -> None:
        async for events in batches_of(stream, TAKE, WITHIN_S):
            await boundary.handle_each([Record.of(event) for event in events], step, tables)

    return _install(streams, topic, boundary.agent, agent)


def whole_batches(
    streams: Streams,
    topic: TypedTopic[M],
    boundary: Boundary,
    work: Callable[[Sequence[Record]], Awaitable[None]],
    size: int,
    within_s: float,
) -> AgentT[bytes]:
    """The agent `boundary.agent` on `topic`: `work` on each batch as a whole (`Boundary.handle_batch`)."""

    async def agent(stream: StreamT[bytes]) -> None:
        async for events in batches_of(stream, size, within_s):
            await boundary.handle_batch([Record.of(event) for event in events], work)

    return _install(streams, topic, boundary.agent, agent)


def _install(
    streams: Streams, topic: TypedTopic[M], name: str, body: Callable[[StreamT[bytes]], Awaitable[None]]
) -> AgentT[bytes]:
    body.__name__ = body.__qualname__ = name  # Faust names the agent's task and logs after it
    body.__doc__ = f"{name}: {topic.name}"
    agent: AgentT[bytes] = streams.app.agent(topic.topic, name=name, concurrency=1)(body)
    return agent
