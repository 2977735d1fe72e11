"""`streams.departure`: a crashing worker closes its consumers' group membership, with a limit."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from streams import departure


@dataclass
class Coordinator:
    answers_in_s: float = 0.0
    closed: list[str] = field(default_factory=list)

    async def close(self) -> None:
        await asyncio.sleep(self.answers_in_s)
        self.closed.append(threading.current_thread().name)


@dataclass
class Consumer:
    _coordinator: Coordinator


@dataclass
class ConsumerThread:
    """What `leave_groups_now` reads of a Faust consumer thread: its loop and its consumer."""

    thread_loop: asyncio.AbstractEventLoop
    _consumer: Consumer | None

    def __hash__(self) -> int:
        return id(self)


@pytest.fixture
def loop_in_a_thread() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="consumer-thread", daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def test_each_remembered_consumer_leaves_on_its_own_loop(loop_in_a_thread: asyncio.AbstractEventLoop) -> None:
    coordinator = Coordinator()
    thread = ConsumerThread(loop_in_a_thread, Consumer(coordinator))
    departure.remember(thread)
    assert departure.leave_groups_now(timeout_s=5) == 1
    assert coordinator.closed == ["consumer-thread"]


def test_a_broker_that_does_not_answer_costs_the_limit_and_no_more(
    loop_in_a_thread: asyncio.AbstractEventLoop,
) -> None:
    slow = Coordinator(answers_in_s=30)
    thread = ConsumerThread(loop_in_a_thread, Consumer(slow))
    departure.remember(thread)
    assert departure.leave_groups_now(timeout_s=0.2) == 0
    assert slow.closed == []


def test_a_thread_without_a_consumer_yet_is_skipped(loop_in_a_thread: asyncio.AbstractEventLoop) -> None:
    thread = ConsumerThread(loop_in_a_thread, None)
    departure.remember(thread)
    assert departure.leave_groups_now(timeout_s=1) == 0
