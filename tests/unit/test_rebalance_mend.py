"""The mended consumer (streams.rebalance): what a rebalance may no longer lose or hang on."""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary, WeakSet

import pytest
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP
from intervaltree import IntervalTree  # type: ignore[import-untyped] # the gap tree Faust keeps

from streams import rebalance
from streams.app import create_streams
from streams.rebalance import LivePartitions, ReadOffsets, RebalanceSafeConsumer, rewind_targets
from streams.settings import Settings

INTAKE_0, INTAKE_3 = TP("w.appeals.intake", 0), TP("w.appeals.intake", 3)
CHANGELOG = TP("w.shaobao-tickets-changelog", 3)


@dataclass
class FakeTables:
    actives_ready: bool = True
    changelog_topics: frozenset[str] = frozenset({CHANGELOG.topic})


@dataclass
class FakeApp:
    tables: FakeTables = field(default_factory=FakeTables)


@dataclass
class FakeFaustConsumer:
    _active_partitions: set[TP] = field(default_factory=set)
    flow_active: bool = True
    app: FakeApp = field(default_factory=FakeApp)


def test_a_fetch_sees_the_active_partitions_as_they_are_when_records_are_drained() -> None:
    faust_consumer = FakeFaustConsumer({INTAKE_0, INTAKE_3})
    live = LivePartitions(faust_consumer)
    assert INTAKE_3 in live
    # The rebalance pauses everything while the fetch waits: aiokafka reads an empty set as
    # "every partition"; the live view is never empty and holds nothing.
    faust_consumer._active_partitions.clear()
    assert bool(live) and INTAKE_3 not in live
    faust_consumer._active_partitions.add(INTAKE_3)
    faust_consumer.flow_active = False
    assert INTAKE_3 not in live


def test_sources_are_fetched_only_once_the_tables_are_recovered_changelogs_always() -> None:
    faust_consumer = FakeFaustConsumer({INTAKE_3, CHANGELOG})
    faust_consumer.app.tables.actives_ready = False  # from the start of a rebalance to its end
    live = LivePartitions(faust_consumer)
    assert INTAKE_3 not in live and CHANGELOG in live
    faust_consumer.app.tables.actives_ready = True
    assert INTAKE_3 in live


def test_after_a_rebalance_a_partition_never_committed_goes_back_to_its_start() -> None:
    committed = {INTAKE_0: 120, INTAKE_3: None, CHANGELOG: None}
    assert rewind_targets(committed, {CHANGELOG.topic}) == {INTAKE_0: 120, INTAKE_3: 0}
    # A commit of 0 is no commit to aiokafka (`if offset and offset > 0`): sought all the same.
    assert rewind_targets({INTAKE_3: 0}, set()) == {INTAKE_3: 0}


def test_the_app_builds_the_mended_consumer_once_installed_and_only_before_it_exists() -> None:
    streams = create_streams(Settings(topic_prefix="w."))
    rebalance.install(streams.app)
    assert streams.app.transport.Consumer is RebalanceSafeConsumer
    assert RebalanceSafeConsumer._new_consumer_thread is not faust_aiokafka.Consumer._new_consumer_thread
    streams.app._consumer = object()  # type: ignore[assignment] # as if built already
    with pytest.raises(RuntimeError):
        rebalance.install(streams.app)


class FakeMessage:
    def __init__(self, refcount: int) -> None:
        self.refcount, self.acked, self.tracked = refcount, False, True


@dataclass
class FakeEvent:
    message: FakeMessage


@dataclass
class FakeQueue:
    _queue: deque[Any]


@dataclass
class FakeFlowControl:
    _queues: list[FakeQueue]


def test_a_rebalance_stops_waiting_for_a_record_only_copies_cleared_from_queues_still_hold() -> None:
    consumer: Any = RebalanceSafeConsumer.__new__(RebalanceSafeConsumer)  # only its bookkeeping
    consumer._unacked_messages, consumer._dropped = WeakSet(), WeakKeyDictionary()
    # Read by three agents: the sink is done with `orphan`, its two other copies are queued;
    # `busy` is still in one agent's hands, its other copy queued.
    orphan, busy = FakeMessage(refcount=2), FakeMessage(refcount=2)
    queues = [FakeQueue(deque([FakeEvent(orphan), FakeEvent(busy)])), FakeQueue(deque([FakeEvent(orphan)]))]
    consumer._unacked_messages.update({orphan, busy})
    consumer._count_dropped(FakeFlowControl(queues))
    consumer._clean_unacked_messages()
    assert set(consumer._unacked_messages) == {busy}
    assert not orphan.acked  # not acked: its offset is not committed, it is read again
    busy.refcount = 1  # the agent that held it is done
    consumer._clean_unacked_messages()
    assert set(consumer._unacked_messages) == set()


def test_a_commit_never_passes_a_record_that_is_not_acked() -> None:
    consumer: Any = RebalanceSafeConsumer.__new__(RebalanceSafeConsumer)
    consumer._committed_offset, consumer._acked = defaultdict(lambda: None), defaultdict(list)
    consumer._acked_index, consumer._gap = defaultdict(set), defaultdict(IntervalTree)
    consumer._read_offset = ReadOffsets()
    consumer._committed_offset[INTAKE_3] = 133  # the next record to read is 133
    consumer._acked[INTAKE_3] = [134, 135]  # 133 was dropped; Faust alone would commit 136
    assert consumer._new_offset(INTAKE_3) is None
    consumer._acked[INTAKE_3].insert(0, 133)
    assert consumer._new_offset(INTAKE_3) == 136
    # Offsets missing from the log (a gap Faust saw while reading) are no hole.
    consumer._committed_offset[INTAKE_0] = 0
    consumer._acked[INTAKE_0] = [1, 2]
    assert consumer._new_offset(INTAKE_0) is None
    consumer._gap[INTAKE_0].addi(0, 1)
    assert consumer._new_offset(INTAKE_0) == 3
    # The committed record is gone (retention): the first record read since the seek is the head.
    consumer._read_offset.update({INTAKE_0: 10})
    consumer._committed_offset[INTAKE_0] = 10
    consumer._acked[INTAKE_0] = [12, 13]
    assert consumer._new_offset(INTAKE_0) is None
    consumer._read_offset[INTAKE_0] = 12  # handed to the stream: nothing before it exists
    consumer._gap[INTAKE_0].addi(11, 12)  # what Faust's reader records: 11 missing, not 10
    assert consumer._new_offset(INTAKE_0) == 14
