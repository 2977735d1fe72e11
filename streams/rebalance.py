"""Faust 0.15.3's consumer, mended so that a rebalance neither loses a record nor hangs.

The fault (issue 13, item 6: the two-worker stall). Faust fetches through aiokafka in a
thread of its own and drops, silently, records aiokafka has already handed it whenever a
rebalance overtakes them (`faust.transport.consumer.Consumer.getmany`: flow stopped, the
generation changed, or the partition paused). aiokafka has already moved its position past
them; Faust counts on the `perform_seek()` that follows every rebalance to put it back at
the committed offset. But aiokafka's `seek_to_committed()` only seeks a partition whose
committed offset is above 0: a partition that has never had a commit keeps the position the
dropped fetch left, and its first records are never read. That is every partition of a new
consumer group: in a fresh clone, the test that starts a second worker while appeals arrive.

Records get handed over during a rebalance in the first place because Faust passes its live
set of active partitions to the consumer thread by reference: an in-flight fetch
(`fetched_records`, up to 1 s, parked across the rebalance) sees the set emptied by
`pause_partitions(assignment)`, and aiokafka reads an empty set as "every partition"
(robinhood/faust#69 fixed this with a lock; faust-streaming/faust#239 made the set change in
place again, which is what a parked fetch sees).

Three mends, in a consumer and consumer thread of our own (no change to the library):
- `seek_to_committed` also puts a source partition that has no committed offset back at its
  first offset (`earliest`, as the reset policy), so the seek after every rebalance re-reads
  whatever was dropped: at-least-once again, which every reader here absorbs (ids);
- a fetch hands out only the partitions Faust has active at the moment records are drained,
  never all of them, so paused partitions (sources and changelogs) keep their records;
- a rebalance no longer waits for ever for a record some agent can no longer acknowledge
  (see `RebalanceSafeConsumer`), which held a worker, and its whole group, in the rebalance.
"""

from __future__ import annotations

import logging
import weakref
from collections import defaultdict
from collections.abc import Collection, Mapping
from typing import Any, cast

import faust
from aiokafka.errors import IllegalStateError
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

from streams import departure
from streams.transport_mends import replace_transport_class

log = logging.getLogger(__name__)


class LivePartitions:
    """What aiokafka's `fetched_records(partitions)` sees: never empty (an empty set means
    "all partitions" to it), and asked at drain time, so a partition Faust paused while the
    fetch waited is no longer in it, nor is anything while the flow is stopped. A source
    partition is in it only once the tables are recovered (`actives_ready`, false from the
    start of a rebalance): Faust resumes the source partitions before its seek and clears
    the agents' queues after it (`flow_control.resume()`), so records fetched in between were
    dropped unprocessed while Faust's read offset said they had been delivered."""

    __slots__ = ("_consumer",)

    def __init__(self, consumer: Any) -> None:
        self._consumer = consumer

    def __bool__(self) -> bool:
        return True

    def __contains__(self, tp: object) -> bool:
        consumer = self._consumer
        active = consumer._active_partitions  # noqa: SLF001 - Faust's own, read only
        if not consumer.flow_active or active is None or tp not in active:
            return False
        tables = consumer.app.tables
        return bool(tables.actives_ready) or getattr(tp, "topic", None) in tables.changelog_topics


def _covered(gaps: Any, begin: int, end: int) -> bool:
    """Are the offsets begin..end-1 all gaps in the log (acked without a record)?"""
    at = begin
    for interval in sorted(gaps.overlap(begin, end), key=lambda i: i.begin):
        if interval.begin > at:
            return False
        at = max(at, interval.end)
    return at >= end


def rewind_targets(committed: Mapping[Any, int | None], changelogs: Collection[str]) -> dict[Any, int]:
    """Where each assigned partition is put back after a rebalance: its committed offset, as
    aiokafka's `seek_to_committed` does, and a source partition without one at offset 0,
    where aiokafka leaves it wherever the last fetch did. Offset 0 needs no lookup: if the
    log no longer starts there, aiokafka finds it out of range and resets to the earliest
    (`consumer_auto_offset_reset`). Changelogs are recovery's to place."""
    return {tp: offset or 0 for tp, offset in committed.items() if offset or tp.topic not in changelogs}


class RebalanceSafeConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    async def seek_to_committed(self) -> Mapping[TP, int]:
        return cast(Mapping[TP, int], await self.call_thread(self._seek_to_committed_or_first))

    async def _seek_to_committed_or_first(self) -> Mapping[Any, int | None]:
        """aiokafka's `seek_to_committed`, with offset 0 for a partition never committed.

        The committed offsets are fetched in one request (aiokafka makes one per partition),
        then every partition is sought at once, with no await in between."""
        consumer = self._ensure_consumer()
        assigned = list(consumer.assignment())
        if not assigned:
            raise IllegalStateError("No partitions are currently assigned")  # as aiokafka's does
        found = await consumer._coordinator.fetch_committed_offsets(assigned)  # noqa: SLF001
        committed: dict[Any, int | None] = {}
        for tp in assigned:
            meta = found.get(tp)
            committed[tp] = None if meta is None or meta.offset < 0 else meta.offset
        still = consumer.assignment()
        for tp, offset in rewind_targets(committed, self.app.tables.changelog_topics).items():
            if tp in still:  # a rebalance meanwhile: the next seek is the one that counts
                consumer.seek(tp, offset)
        return committed

    async def _fetch_records(
        self,
        consumer: Any,
        active_partitions: Any,
        timeout: float | None = None,  # noqa: ASYNC109 - the library's signature
        max_records: int | None = None,
    ) -> Any:
        partitions: Any = None if active_partitions is None else LivePartitions(self.consumer)
        return await super()._fetch_records(consumer, partitions, timeout=timeout, max_records=max_records)


class ReadOffsets(defaultdict[Any, int | None]):
    """Faust's read offsets (the last offset handed to the streams, per partition), also
    keeping the first one handed over since the partition was last sought."""

    def __init__(self) -> None:
        super().__init__(lambda: None)
        self.first_read: dict[Any, int] = {}

    def __setitem__(self, tp: Any, offset: int | None) -> None:
        if offset is not None:
            self.first_read.setdefault(tp, offset)
        super().__setitem__(tp, offset)

    def update(self, *args: Any, **kwargs: Any) -> None:  # Faust's perform_seek: a new start
        changes = dict(*args, **kwargs)
        for tp in changes:
            self.first_read.pop(tp, None)
        super().update(changes)

    def pop(self, tp: Any, *default: Any) -> Any:
        self.first_read.pop(tp, None)
        return super().pop(tp, *default)

    def __delitem__(self, tp: Any) -> None:
        self.first_read.pop(tp, None)
        super().__delitem__(tp)


class RebalanceSafeConsumer(faust_aiokafka.Consumer):
    """Also: a rebalance does not wait for events no agent will ever acknowledge.

    A record read by several agents (`tickets.events`: orders, sink, timers) is acked when
    the last of them is done with it. On a rebalance Faust clears the agents' queues
    (`flow_control.clear()`) and then waits for every record already taken to be acked
    (`wait_empty`). A record one agent had taken while its copy still sat in another agent's
    queue loses that copy unacked, and `wait_empty` waits for it for ever: the worker never
    rejoins, the whole group waits for it (robinhood/faust#402, faust-streaming/faust#133).
    Here the copies a clear drops are counted, and `wait_empty` stops waiting for a record
    once only dropped copies hold it. It is not acked: its offset stays uncommitted and it
    is read again, by every agent, after the rebalance.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._dropped: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
        self._read_offset: ReadOffsets = ReadOffsets()
        flow_control: Any = self.app.flow_control
        clear = flow_control.clear

        def clear_counting_dropped() -> None:
            self._count_dropped(flow_control)
            clear()

        flow_control.clear = clear_counting_dropped  # this app's flow control only

    def _count_dropped(self, flow_control: Any) -> None:
        for queue in list(flow_control._queues):  # noqa: SLF001 - read just before Faust clears them
            for item in list(getattr(queue, "_queue", ())):
                message = getattr(item, "message", None)
                if message is not None and getattr(message, "tracked", False):
                    self._dropped[message] = self._dropped.get(message, 0) + 1

    def _clean_unacked_messages(self) -> None:
        super()._clean_unacked_messages()
        unacked: Any = self._unacked_messages
        orphans = {m for m in unacked if 0 < m.refcount <= self._dropped.get(m, 0)}
        if orphans:
            log.warning(
                "not waiting for %d record(s) an agent took while their other copies were cleared "
                "by the rebalance (e.g. %s); they stay uncommitted and are read again",
                len(orphans),
                next(iter(orphans)),
            )
            unacked -= orphans

    def _new_offset(self, tp: TP) -> int | None:
        """Faust's, but never past a record that is not acked: its own head check
        (`min(acked) - committed > 1`, from when it committed the last offset rather than the
        next) let a commit skip one unacked record, for good."""
        head = self._committed_offset[tp]
        acked = self._acked[tp]
        if acked and head is not None:
            # No record at the committed offset (gone with retention): the head is the first
            # one read since the seek (Faust records no gap for one missing offset).
            first = self._read_offset.first_read.get(tp)
            if first is not None and first > head:
                head = first
            if not _covered(self._gap[tp], head, min(acked)):
                return None
        return super()._new_offset(tp)

    async def wait_empty(self) -> None:
        self._clean_unacked_messages()
        await super().wait_empty()

    def _new_consumer_thread(self) -> RebalanceSafeConsumerThread:
        thread = RebalanceSafeConsumerThread(self, loop=self.loop, beacon=self.beacon)
        departure.remember(thread)
        return thread


def install(app: faust.App) -> None:
    """Make `app` build the mended consumer; before anything has asked for `app.consumer`."""
    replace_transport_class(app, "Consumer", RebalanceSafeConsumer, "rebalance-safe consumer")
