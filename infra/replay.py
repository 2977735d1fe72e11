"""`shaobao replay`: PostgreSQL rebuilt from `tickets.events`, through the sink's own store.

The log is read from its first offsets to the end offsets at the start, in large batches, and
each batch goes to `AsyncpgTicketStore.record`, the code the sink agent writes with: events
are held once (by event id), each ticket's row is the fold of its events, and an event that
does not follow its ticket's log (a broken writer's) is refused, as the sink and `shaobao
verify` refuse it (`domain.ticket.consistency.accepted_log`). So a replay into an empty database
rebuilds the store, and a replay into one that holds some or all of the log writes only what
it lacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from agents.ports import TicketEventStore, Unstorable
from infra.kafka.topic_read import TopicRecord, topic_reading
from schemas.base import validate_json
from schemas.events import TICKET_EVENT, TicketEvent
from streams.kafka_access import KafkaAccess

BATCH_EVENTS = 2_000
DECODE_SLICE = 200  # records decoded between two looks at the batch being written
REFUSED_KEPT = 100  # refused events named in the summary at most (all are counted)


@dataclass
class ReplayProgress:
    """How far a replay got: records read of `total`, and what became of them."""

    total: int = 0  # records on the log at the start
    read: int = 0
    undecodable: int = 0  # records that are no ticket event (the sink made them dead letters)
    written: int = 0  # events new to the store
    present: int = 0  # events the store held already (or a second copy of one on the log)
    refused: int = 0  # events that do not follow their ticket's log: not held
    refusals: list[tuple[str, str]] = field(default_factory=list)  # (event id, why), the first ones
    started: float = field(default_factory=time.monotonic)

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    @property
    def per_second(self) -> float:
        """Records read per second so far."""
        return self.read / max(self.seconds, 1e-9)

    def refuse(self, event: TicketEvent, why: str) -> None:
        self.refused += 1
        if len(self.refusals) < REFUSED_KEPT:
            self.refusals.append((event.event_id, why))


async def replay_events(
    kafka: KafkaAccess,
    topic: str,
    store: TicketEventStore,
    batch_events: int = BATCH_EVENTS,
    on_batch: Callable[[ReplayProgress], None] = lambda progress: None,
) -> ReplayProgress:
    """Every event on `topic` into `store`, a batch at a time; `on_batch` after each batch.
    Raises `StoreUnavailable` (PostgreSQL down: running it again is safe) or LookupError.

    Batches are written one after the other, in log order; while PostgreSQL writes one, the
    next is fetched and decoded (two processes, two cores)."""
    writing: asyncio.Task[None] | None = None
    try:
        async with topic_reading(kafka, topic) as reading:
            progress = ReplayProgress(total=reading.total)
            async for records in reading.batches(max_records=batch_events):
                progress.read += len(records)
                events = await _decoded(records, progress)
                if writing is not None:
                    await writing
                    on_batch(progress)
                writing = asyncio.create_task(write_events(store, events, progress))
            if writing is not None:
                await writing
                on_batch(progress)
    finally:
        if writing is not None and not writing.done():
            writing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writing
    return progress


async def _decoded(records: Sequence[TopicRecord], progress: ReplayProgress) -> list[TicketEvent]:
    """The records' events (the others counted), a slice at a time: between slices, the batch
    before goes on to PostgreSQL with its next statement."""
    events: list[TicketEvent] = []
    for start in range(0, len(records), DECODE_SLICE):
        for record in records[start : start + DECODE_SLICE]:
            try:
                events.append(validate_json(TICKET_EVENT, record.value))
            except ValueError:  # pydantic's ValidationError is one
                progress.undecodable += 1
        await asyncio.sleep(0)
    return events


async def write_events(
    store: TicketEventStore, events: Sequence[TicketEvent], progress: ReplayProgress
) -> None:
    """Write `events`; one the store refuses is counted and left out, those around it written
    (as the sink sets such an event aside)."""
    while events:
        try:
            written = await store.record(events)
        except Unstorable as exc:
            if exc.index is None:
                if len(events) == 1:
                    progress.refuse(events[0], str(exc))
                    return
                for one in events:  # the store did not say which: one at a time
                    await write_events(store, [one], progress)
                return
            await write_events(store, events[: exc.index], progress)
            progress.refuse(events[exc.index], str(exc))
            events = events[exc.index + 1 :]
            continue
        progress.written += written
        progress.present += len(events) - written
        return
