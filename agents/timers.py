"""Timer agents: fire the time limits of the tickets this worker owns, per partition.

Every worker keeps a due-index (`domain.time_limits.due_index.DueIndex`) of the partitions it owns:
rebuilt from the `tickets` table each time the table's recovery completes (start, restart,
rebalance), cleared when partitions are revoked, and kept current from `tickets.events`
(an event that comes back before the ticket agent's table write is parked until the write
lands: `AheadOfTable`).
A timer, on every worker (not on_leader), sends each due mark as a `FlagLimit` command to
the ticket agent, which records it once and alerts. A mark that fell due while no worker
ran is due at once after the rebuild.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from functools import partial
from typing import Any

from mode.types.signals import BaseSignalT
from pydantic import BaseModel, ConfigDict

from agents.boundary import Record, boundary_for, guard_task
from agents.ports import TimeSource
from agents.subscriptions import each_record
from domain.time_limits import DueIndex, DueMark
from schemas.commands import FlagLimit
from schemas.limits import Clock as RunningClock
from streams.app import Streams

log = logging.getLogger(__name__)
# How often the timer looks for due marks: bounds the firing delay (the bench measures it).
TICK_S = 0.1
# Marks falling due now sent per tick at most.
BATCH = 5000
# A mark more than LATE_S late when the timer first sees it is backlog (it fell due while no
# worker ran, or while this one was swamped): backlog goes out LATE_BATCH a tick, after the
# fresh marks. `bench/timers_recovery.py` (1,000,000 tickets, 60,000 marks due during the
# outage, then 60,000 due over a minute), 2026-12-01 on the 2-core machine: all at once
# (5,000 a tick), the backlog took 55 s to send and the minute's marks waited p50 5.0 s, p99
# 50 s; 100 a tick: 103 s, p50 0.5 s, p99 29 s; 500 a tick: 29 s, p50 59 ms, p99 124 ms
# (one run each; the changelog read alone took 272-314 s across the three runs: a noisy machine).
LATE_S = 2.0
LATE_BATCH = 500
# How a stored state with no running clock reads (pydantic's compact JSON of an empty tuple).
NO_CLOCKS = b'"clocks":[]'
# How long an event may wait for the ticket agent's table write before it is taken for one the
# ticket agent never wrote (a broken client on `tickets.events`), and how many may wait at once.
PARK_S = 30.0
PARK_LIMIT = 10_000


class IndexedState(BaseModel):
    """The part of a stored `TicketState` the index needs; the rest is not validated."""

    model_config = ConfigDict(extra="ignore")

    ticket_id: str
    version: int
    clocks: tuple[RunningClock, ...] = ()


def rebuild(index: DueIndex, stored: Iterable[bytes | None]) -> int:
    """Load every state of the table (its owned partitions) into the index; returns how many."""
    count = 0
    for raw in stored:
        if raw is None:
            continue
        count += 1
        if NO_CLOCKS in raw:
            continue  # closed, or nothing running: most of a long-lived table, not worth parsing
        state = IndexedState.model_validate_json(raw)
        index.update(state.ticket_id, state.version, state.clocks)
    return count


class AheadOfTable:
    """Events read back before the ticket agent's `tickets` table holds their version.

    The ticket agent writes its table only once the broker has acknowledged the events (a
    crash in between must not leave the table ahead of the log), and the worker's consumer
    thread can hand this worker's indexer an event in those milliseconds. Dropped, its clocks
    went unwatched until the next rebuild, which on a quiet day is never: `make chaos` found
    65 marks that never fired. So such an event is parked by ticket and version, and each
    tick indexes the ticket from the table once the table has caught up. One that waits
    longer than `max_age_s` was not the ticket agent's; it is dropped and said so.
    """

    def __init__(self, max_age_s: float = PARK_S, limit: int = PARK_LIMIT) -> None:
        self.max_age_s = max_age_s
        self.limit = limit
        self._parked: dict[str, tuple[int, float]] = {}  # ticket id → (version, parked at)

    def __len__(self) -> int:
        return len(self._parked)

    def park(self, ticket_id: str, version: int, now: float) -> None:
        held = self._parked.get(ticket_id)
        if held is not None and held[0] >= version:
            return
        if held is None and len(self._parked) >= self.limit:
            oldest = next(iter(self._parked))
            log.warning("%d events wait for the tickets table; dropped the oldest (%s)", self.limit, oldest)
            del self._parked[oldest]
        self._parked[ticket_id] = (version, now)

    def settle(self, index: DueIndex, read: Callable[[str], IndexedState | None], now: float) -> int:
        """Index every parked ticket whose stored state has caught up; returns how many."""
        settled = 0
        for ticket_id, (version, parked_at) in list(self._parked.items()):
            stored = read(ticket_id)
            if stored is not None and stored.version >= version:
                index.update(stored.ticket_id, stored.version, stored.clocks)
                settled += 1
            elif now - parked_at <= self.max_age_s:
                continue
            else:
                log.warning(
                    "an event of %s (version %d) never matched the tickets table in %.0f s: not the"
                    " ticket agent's; its clocks are not indexed",
                    ticket_id,
                    version,
                    self.max_age_s,
                )
            del self._parked[ticket_id]
        return settled

    def clear(self) -> None:
        self._parked.clear()


def settle() -> None:
    """Take what a rebuild leaves alive out of the cyclic collector's full passes.

    A million open tickets leave millions of long-lived tuples (clock instants, heap
    entries); a full pass over them, when it came while firing, stalled the timer loop for
    1.4-1.6 s (`bench/timers.py`, even after one `gc.collect()`: nested tuples are untracked
    only a level per pass). So: collect once, then freeze what survives (`gc.freeze`). None
    of the index is part of a cycle, so refcounting still frees what an update replaces; the
    next rebuild unfreezes first, so cyclic garbage among frozen objects is collected then.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def due_now(index: DueIndex, now: datetime) -> list[DueMark]:
    """What one tick of the timer sends: the fresh marks, then a little of any backlog."""
    return index.pop_due(now, limit=BATCH, late_s=LATE_S, late_limit=LATE_BATCH)


def flag(mark: DueMark, now: datetime) -> FlagLimit:
    return FlagLimit(
        command_id=mark.command_id,
        ticket_id=mark.ticket_id,
        issued_at=now,
        clock=mark.clock,
        mark=mark.mark,
        limit_version=mark.limit_version,
    )


def install(streams: Streams, clock: TimeSource, index: DueIndex | None = None) -> DueIndex:
    index = index if index is not None else DueIndex()
    ahead = AheadOfTable()
    _keep_rebuilt(streams, index, ahead)
    _index_clocks(streams, index, ahead, clock)

    async def fire_due_timers() -> None:
        if ahead:
            ahead.settle(index, partial(stored_state, streams.tickets), time.monotonic())
        now = clock.now()
        for mark in due_now(index, now):
            await streams.commands.send(mark.ticket_id, flag(mark, now))

    # A mark popped but not sent when something fails is sent again after the restart's rebuild.
    streams.app.timer(TICK_S, name="fire_due_timers")(guard_task("fire_due_timers", fire_due_timers))
    return index


def stored_state(tickets: Mapping[str, bytes], ticket_id: str) -> IndexedState | None:
    raw = tickets.get(ticket_id)
    return None if raw is None else IndexedState.model_validate_json(raw)


def _keep_rebuilt(streams: Streams, index: DueIndex, ahead: AheadOfTable) -> None:
    """The index rebuilt from the table each time its recovery completes, cleared on revocation."""

    @streams.tickets.on_recover
    async def rebuild_due_index() -> None:
        count = rebuild(index, list(streams.tickets.values()))
        settle()
        log.info("due-index rebuilt from %d ticket states: %d with running clocks", count, len(index))

    # Faust's signal passes the sender and its arguments untyped (mode's `BaseSignalT`).
    async def forget_revoked(
        sender: object, /, *args: object, signal: BaseSignalT[Any], **kwargs: object
    ) -> None:
        # The rebuild after the rebalance's recovery reloads what this worker still owns.
        index.clear()
        ahead.clear()

    streams.app.on_partitions_revoked.connect(forget_revoked)


def _index_clocks(streams: Streams, index: DueIndex, ahead: AheadOfTable, clock: TimeSource) -> None:
    """The agent that keeps the index current from `tickets.events`."""
    boundary = boundary_for(streams, "index_ticket_clocks", clock)

    async def index_clocks(record: Record) -> None:
        event = streams.events.decode(record.value)
        if event.clocks is None:
            return
        # Only the ticket agent's own events, which its `tickets` table (co-partitioned, on this
        # worker) holds or soon will: a broken writer's event ahead of the ticket (a huge
        # version, false clocks) would otherwise shadow the real clocks until a rebuild.
        stored = stored_state(streams.tickets, event.ticket_id)
        if stored is None or stored.version < event.version:
            ahead.park(event.ticket_id, event.version, time.monotonic())
            return
        index.update(event.ticket_id, event.version, event.clocks)

    each_record(streams, streams.events, boundary, index_clocks)
