"""Timer agents: fire the time limits of the tickets this worker owns, per partition.

Every worker keeps a due-index (`domain.timers.DueIndex`) of the partitions it owns:
rebuilt from the `tickets` table each time the table's recovery completes (start, restart,
rebalance), cleared when partitions are revoked, and kept current from `tickets.events`.
A timer, on every worker (not on_leader), sends each due mark as a `FlagLimit` command to
the ticket agent, which records it once and alerts. A mark that fell due while no worker
ran is due at once after the rebuild.
"""

from __future__ import annotations

import gc
import logging
from datetime import datetime
from typing import Any

from mode.types.signals import BaseSignalT
from pydantic import BaseModel, ConfigDict

from agents.boundary import Record, boundary_for, guard_task
from agents.ports import Clock
from domain.timers import DueIndex, DueMark
from schemas.commands import FlagLimit
from schemas.limits import Clock as RunningClock
from streams.app import Streams
from streams.codecs import decode_event, encode

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


class IndexedState(BaseModel):
    """The part of a stored `TicketState` the index needs; the rest is not validated."""

    model_config = ConfigDict(extra="ignore")

    ticket_id: str
    version: int
    clocks: tuple[RunningClock, ...] = ()


def rebuild(index: DueIndex, stored: Any) -> int:
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


def install(streams: Streams, clock: Clock, index: DueIndex | None = None) -> DueIndex:
    index = index if index is not None else DueIndex()
    app = streams.app

    @streams.tickets.on_recover
    async def rebuild_due_index() -> None:
        count = rebuild(index, list(streams.tickets.values()))
        settle()
        log.info("due-index rebuilt from %d ticket states: %d with running clocks", count, len(index))

    async def forget_revoked(sender: Any, /, *args: Any, signal: BaseSignalT[Any], **kwargs: Any) -> None:
        # The rebuild after the rebalance's recovery reloads what this worker still owns.
        index.clear()

    app.on_partitions_revoked.connect(forget_revoked)

    boundary = boundary_for(streams, "index_ticket_clocks", clock)

    async def index_clocks(record: Record) -> None:
        event = decode_event(record.value or b"")
        if event.clocks is None:
            return
        # Only the ticket agent's own events: it wrote the `tickets` table (co-partitioned, on
        # this worker) before the event came back. A broken writer's event ahead of the ticket
        # (a huge version, false clocks) would otherwise shadow the real clocks until a rebuild.
        stored = streams.tickets.get(event.ticket_id)
        if stored is None or IndexedState.model_validate_json(stored).version < event.version:
            return
        index.update(event.ticket_id, event.version, event.clocks)

    @app.agent(streams.events, name="index_ticket_clocks", concurrency=1)
    async def index_ticket_clocks(stream: Any) -> None:
        async for event in stream.events():
            await boundary.handle(Record.of(event), index_clocks)

    async def fire_due_timers() -> None:
        now = clock.now()
        for mark in due_now(index, now):
            command = flag(mark, now)
            await streams.commands.send(key=mark.ticket_id.encode(), value=encode(command), force=True)

    # A mark popped but not sent when something fails is sent again after the restart's rebuild.
    app.timer(TICK_S, name="fire_due_timers")(guard_task("fire_due_timers", fire_due_timers))
    return index
