"""Sink agents: every ticket event, and every intake rejection, into PostgreSQL, in batches,
idempotently.

While PostgreSQL is down a batch is held and retried with backoff inside the agent's body:
Faust's `take()` acks a batch's events only once the body is done with it, so no offset is
committed past an unwritten event and the agent reads nothing more meanwhile. The first
failure raises an alert on `alerts`, the write that succeeds raises another; then the sink
catches up from the held batch. A worker stopped while it holds a batch exits without
committing (`EXIT_STORE_DOWN`); the next one reads the batch again. Idempotent writes (event
ids, rejection ids) make a replay after a crash write nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import NoReturn, Protocol, TypeVar

from faust.types import AgentT
from pydantic import BaseModel

from agents.boundary import Boundary, Record, boundary_for
from agents.ports import StoreUnavailable, TicketEventStore, TimeSource, Unstorable
from agents.subscriptions import whole_batches
from domain.ops import ALERT_KEY, store_back_alert, store_down_alert
from schemas.alerts import Alert
from schemas.dead_letters import DeadLetter
from schemas.events import TicketEvent
from schemas.rejections import AppealRejected
from streams import departure
from streams.app import Streams
from streams.typed import TypedTopic

log = logging.getLogger(__name__)
BATCH_SIZE = 500
BATCH_WITHIN_S = 0.2
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 10.0
STOP_CHECK_S = 0.5
EXIT_STORE_DOWN = 75  # EX_TEMPFAIL: stopped with a batch unwritten; start again once PostgreSQL is up
T = TypeVar("T")


class RejectionStore(Protocol):
    async def record_rejections(self, rejections: Sequence[AppealRejected]) -> int:
        """Write rejections idempotently; returns how many were new. Raises `StoreUnavailable`."""
        ...


class _UtcClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class HeldBatchWriter:
    """Writes one batch, retrying until the store takes it; alerts when it goes and comes back."""

    def __init__(
        self,
        send_alert: Callable[[Alert], Awaitable[None]],
        clock: TimeSource,
        first_backoff_s: float = FIRST_BACKOFF_S,
        max_backoff_s: float = MAX_BACKOFF_S,
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self._send_alert, self._clock, self._stopping = send_alert, clock, stopping
        self._first_backoff_s, self._max_backoff_s = first_backoff_s, max_backoff_s
        self.unwritten = False  # a batch is being written, or held while the store is down

    async def write(
        self, batch: Sequence[T], write: Callable[[Sequence[T]], Awaitable[int]], first: str
    ) -> int:
        """`first` names the batch (its first record's id) in the alerts."""
        backoff, attempts = self._first_backoff_s, 0
        down_since: datetime | None = None
        self.unwritten = True
        while True:
            try:
                written = await write(batch)
            except StoreUnavailable as exc:
                # PostgreSQL is down: hold this batch (nothing acked past it) and retry with backoff.
                attempts += 1
                if down_since is None:
                    down_since = self._clock.now()
                    await self._send_alert(store_down_alert(first, str(exc), down_since))
                log.warning("store unavailable (attempt %d), retrying in %.1fs: %s", attempts, backoff, exc)
                await self._wait(backoff)
                backoff = min(backoff * 2, self._max_backoff_s)
                continue
            self.unwritten = False
            if down_since is not None:
                await self._send_alert(store_back_alert(first, attempts, down_since, self._clock.now()))
            return written

    async def _wait(self, seconds: float) -> None:
        """Sleep before the next attempt; a worker told to stop meanwhile exits at once."""
        deadline = asyncio.get_running_loop().time() + seconds
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            if self._stopping():
                _exit_holding()
            await asyncio.sleep(min(left, STOP_CHECK_S))

    async def write_or_exit(
        self, batch: Sequence[T], write: Callable[[Sequence[T]], Awaitable[int]], first: str
    ) -> int:
        """`write`, but a worker stopped before its batch is written exits at once, committing nothing.

        Stopping, Faust waits for unacked events (`stream_wait_empty`): for ever while PostgreSQL
        is down. Cancelled, `take()` acks the batch anyway and the consumer commits it as it
        stops. Exiting leaves the offsets where they were; the next worker reads the batch again.
        """
        try:
            return await self.write(batch, write, first)
        except asyncio.CancelledError:
            if self.unwritten:
                _exit_holding()
            raise


def _exit_holding() -> NoReturn:
    # Faust would wait for the held batch forever (stream_wait_empty), or ack it as the agent
    # is cancelled and commit it unwritten: neither. The offsets stay where they were.
    log.critical("stopped while the ticket store is down: exiting without committing offsets")
    departure.leave_and_exit(EXIT_STORE_DOWN)


def _writer(streams: Streams, clock: TimeSource | None) -> HeldBatchWriter:
    return HeldBatchWriter(
        _alert_sender(streams), clock or _UtcClock(), stopping=lambda: bool(streams.app.should_stop)
    )


def install(streams: Streams, store: TicketEventStore, clock: TimeSource | None = None) -> AgentT[bytes]:
    clock = clock or _UtcClock()
    writer = _writer(streams, clock)
    boundary = boundary_for(streams, "record_ticket_events", clock)

    async def write(records: Sequence[Record]) -> None:
        events: list[tuple[Record, TicketEvent]] = []
        for record in records:
            try:
                events.append((record, streams.events.decode(record.value)))
            except ValueError as exc:  # pydantic's ValidationError is one
                await boundary.set_aside(record, exc)
        await _write_held(events, store, writer, boundary)

    return whole_batches(streams, streams.events, boundary, write, BATCH_SIZE, BATCH_WITHIN_S)


async def _write_held(
    events: list[tuple[Record, TicketEvent]],
    store: TicketEventStore,
    writer: HeldBatchWriter,
    boundary: Boundary,
) -> None:
    """Write the events; one the store refuses is set aside, those around it written."""
    while events:
        batch = [event for _, event in events]
        try:
            await writer.write_or_exit(batch, store.record, batch[0].event_id)
            return
        except Unstorable as exc:
            at = exc.index
            if at is None and len(events) > 1:
                for one in events:  # the store did not say which: one at a time
                    await _write_held([one], store, writer, boundary)
                return
            at = at or 0
            await _write_held(events[:at], store, writer, boundary)
            await boundary.set_aside(events[at][0], exc)
            events = events[at + 1 :]


M = TypeVar("M", bound=BaseModel)


def _install_copy(
    streams: Streams,
    topic: TypedTopic[M],
    agent: str,
    write: Callable[[Sequence[M]], Awaitable[int]],
    first_id: Callable[[M], str],
    clock: TimeSource | None,
) -> AgentT[bytes]:
    """An agent that copies a topic of our own records into PostgreSQL, in batches, idempotently;
    a record that is not one of ours (a broken writer's, a future schema version) is a dead letter."""
    clock = clock or _UtcClock()
    writer = _writer(streams, clock)
    boundary = boundary_for(streams, agent, clock)

    async def copy(records: Sequence[Record]) -> None:
        parsed = []
        for record in records:
            try:
                parsed.append(topic.decode(record.value))
            except ValueError as exc:  # pydantic's ValidationError is one
                await boundary.set_aside(record, exc)
        if parsed:
            await writer.write_or_exit(parsed, write, first_id(parsed[0]))

    return whole_batches(streams, topic, boundary, copy, BATCH_SIZE, BATCH_WITHIN_S)


def install_rejections(
    streams: Streams, store: RejectionStore, clock: TimeSource | None = None
) -> AgentT[bytes]:
    """`appeals.rejected` into `appeal_rejections`, so reports and ops can query them."""
    return _install_copy(
        streams, streams.rejected, "record_rejections", store.record_rejections,
        lambda r: r.rejection_id, clock,
    )  # fmt: skip


class DeadLetterStore(Protocol):
    async def record_dead_letters(self, letters: Sequence[DeadLetter]) -> int:
        """Write dead letters idempotently; returns how many were new. Raises `StoreUnavailable`."""
        ...


def install_dead_letters(
    streams: Streams, store: DeadLetterStore, clock: TimeSource | None = None
) -> AgentT[bytes]:
    """`dead.letters` into `dead_letters`, for the control room's ops panel."""
    return _install_copy(
        streams, streams.dead_letters, "record_dead_letters", store.record_dead_letters,
        lambda d: d.dead_letter_id, clock,
    )  # fmt: skip


def _alert_sender(streams: Streams) -> Callable[[Alert], Awaitable[None]]:
    async def send(alert: Alert) -> None:
        await streams.alerts.send(ALERT_KEY, alert)
        log.warning("%s", alert.message, extra={"alert_id": alert.alert_id})

    return send
