"""Partition liveness: which agent's partition sits idle with records waiting, and why.

Every `interval_s` each worker looks at the source partitions it owns (changelogs left to
recovery) and logs, at INFO, one line of its consumer's state: generation, rebalancing,
recovery (`in_recovery`, actives/standbys remaining), flow, fetcher, and per partition its
read/committed offsets against the high-water mark. A partition that has records waiting
(high-water above what was read) and whose read offset has not moved for `stall_after_s`
gets a WARNING naming the agent, the partition and every cause found in Faust's and
aiokafka's state (paused by Faust or by aiokafka, left out of Faust's active set, flow
stopped, fetcher not running, recovery not done, buffer full, the agent still on a record).

All of it is read from faust-streaming 0.15.3 / aiokafka 0.14 internals, read only: the
watch must never change what it watches. The decision (`stalled`) is a pure function of two
snapshots, unit-tested without a broker.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import faust
from mode import Service

log = logging.getLogger(__name__)

INTERVAL_S = 5.0
STALL_AFTER_S = 15.0
HIGHWATER_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class PartitionState:
    """One assigned source partition, as this worker's consumer sees it."""

    topic: str
    partition: int
    agents: tuple[str, ...]
    highwater: int | None  # the log end offset (next offset to be written), None: unknown
    read: int | None  # the last offset Faust handed to the agent's stream
    committed: int | None  # the offset Faust committed (the next one to read)
    position: int | None  # aiokafka's next fetch offset
    paused_by_faust: bool
    active_in_faust: bool
    buffer_full: bool
    paused_in_aiokafka: bool
    awaiting_reset: bool
    unacked: int  # records delivered to the agent and not yet acked

    @property
    def name(self) -> str:
        return f"{self.topic}[{self.partition}]"

    @property
    def next_to_read(self) -> int:
        if self.read is not None:
            return self.read + 1
        if self.committed is not None:
            return self.committed
        return 0

    @property
    def lag(self) -> int:
        return 0 if self.highwater is None else max(0, self.highwater - self.next_to_read)


@dataclass(frozen=True, slots=True)
class WorkerState:
    """The worker-wide state that gates every partition."""

    generation: int
    rebalancing: bool
    in_recovery: bool
    recovery_completed: bool
    recovery_restart_pending: bool
    active_remaining: int
    standby_remaining: int
    actives_ready: bool
    standbys_ready: bool
    flow_active: bool
    flow_control_active: bool
    fetcher: str
    highwaters_answered: bool
    partitions: tuple[PartitionState, ...] = ()

    @property
    def unsettled(self) -> bool:
        return (
            self.rebalancing
            or self.in_recovery
            or not self.recovery_completed
            or not self.flow_active
            or not self.flow_control_active
            or self.fetcher != "running"
            or not self.highwaters_answered
        )

    def summary(self) -> str:
        lagging = [p for p in self.partitions if p.lag]
        return (
            f"generation={self.generation} rebalancing={self.rebalancing} "
            f"in_recovery={self.in_recovery} recovery_completed={self.recovery_completed} "
            f"active_remaining={self.active_remaining} standby_remaining={self.standby_remaining} "
            f"actives_ready={self.actives_ready} flow_active={self.flow_active} "
            f"flow_control_active={self.flow_control_active} fetcher={self.fetcher} "
            f"assigned={len(self.partitions)} "
            f"paused_by_faust={sorted(p.name for p in self.partitions if p.paused_by_faust)} "
            f"paused_in_aiokafka={sorted(p.name for p in self.partitions if p.paused_in_aiokafka)} "
            f"lagging={ {p.name: p.lag for p in lagging} }"
        )


@dataclass(frozen=True, slots=True)
class Stall:
    partition: PartitionState
    idle_s: float
    causes: tuple[str, ...]

    def message(self) -> str:
        p = self.partition
        agents = ", ".join(p.agents) or "no agent"
        return (
            f"{agents} idle on {p.name} for {self.idle_s:.0f}s with {p.lag} record(s) waiting "
            f"(read={p.read} committed={p.committed} position={p.position} highwater={p.highwater}): "
            + "; ".join(self.causes)
        )


def causes(worker: WorkerState, p: PartitionState) -> tuple[str, ...]:
    """Every reason found in the consumer's state for `p` not to be read."""
    found = [*_worker_causes(worker), *_partition_causes(p)]
    if not worker.highwaters_answered:
        found.append("the consumer thread did not answer a high-water request")
    return tuple(found) or ("no cause found in the consumer's state",)


def _worker_causes(worker: WorkerState) -> list[str]:
    """What stops the whole worker reading: rebalancing, recovery, flow control, the fetcher."""
    found: list[str] = []
    if worker.rebalancing:
        found.append("the worker is still rebalancing (app.rebalancing)")
    if worker.in_recovery:
        found.append(f"tables in recovery (active_remaining={worker.active_remaining})")
    if not worker.recovery_completed:
        found.append("recovery has not completed for this generation")
    if worker.recovery_restart_pending:
        found.append("a recovery restart is signalled and not yet taken up")
    if not worker.flow_active:
        found.append("consumer flow stopped (stop_flow without resume_flow)")
    if not worker.flow_control_active:
        found.append("app flow control suspended")
    if worker.fetcher != "running":
        found.append(f"Faust's fetcher is {worker.fetcher}")
    return found


def _partition_causes(p: PartitionState) -> list[str]:
    """What stops this one partition: paused, never fetched, a full buffer, records held."""
    found: list[str] = []
    if p.paused_by_faust:
        found.append("paused by Faust (consumer._paused_partitions)")
    if not p.active_in_faust and not p.paused_by_faust:
        found.append("missing from Faust's active partitions (never fetched)")
    if p.buffer_full:
        found.append("the agent's stream buffer is full")
    if p.paused_in_aiokafka:
        found.append("paused in aiokafka")
    if p.awaiting_reset:
        found.append("aiokafka is awaiting an offset reset")
    if p.unacked:
        found.append(f"the agent holds {p.unacked} unacked record(s): its body has not returned")
    if p.position is not None and p.position > p.next_to_read:
        found.append(f"fetched up to {p.position} but not handed to the stream")
    return found


@dataclass
class StallTracker:
    """Remembers, per partition, since when its read position has stood still with records
    waiting; reports those standing still for `stall_after_s` or longer."""

    stall_after_s: float = STALL_AFTER_S
    _since: dict[tuple[str, int], tuple[int, float]] = field(default_factory=dict)

    def observe(self, worker: WorkerState, now: float) -> list[Stall]:
        stalls: list[Stall] = []
        seen: dict[tuple[str, int], tuple[int, float]] = {}
        for p in worker.partitions:
            key = (p.topic, p.partition)
            if not p.lag:
                continue
            previous = self._since.get(key)
            since = previous[1] if previous is not None and previous[0] == p.next_to_read else now
            seen[key] = (p.next_to_read, since)
            if now - since >= self.stall_after_s:
                stalls.append(Stall(p, now - since, causes(worker, p)))
        self._since = seen
        return stalls

    def idle(self, now: float) -> int:
        """How many partitions have had records waiting, unread, since before `now`."""
        return sum(1 for _, since in self._since.values() if since < now)


def agents_by_topic(app: faust.App) -> dict[str, tuple[str, ...]]:
    readers: dict[str, list[str]] = {}
    for agent in app.agents.values():
        for topic in agent.get_topic_names():
            readers.setdefault(topic, []).append(agent.name.rsplit(".", 1)[-1])
    return {topic: tuple(sorted(names)) for topic, names in readers.items()}


async def worker_state(app: faust.App, readers: Mapping[str, tuple[str, ...]]) -> WorkerState | None:
    """A read-only snapshot of this worker's consumer; None before it has started."""
    consumer: Any = app.consumer
    try:
        assignment = consumer.assignment()
    except Exception:  # noqa: BLE001 - ConsumerNotStarted and the like: nothing to watch yet
        return None
    changelogs = app.tables.changelog_topics
    sources = sorted((tp for tp in assignment if tp.topic not in changelogs), key=lambda tp: tuple(tp))
    highwaters: Mapping[Any, int] = {}
    answered = True
    if sources:
        try:
            highwaters = await asyncio.wait_for(consumer.highwaters(*sources), HIGHWATER_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - a timeout here is itself the finding
            answered = False
    tables: Any = app.tables
    recovery: Any = tables.recovery
    kafka = _aiokafka_consumer(consumer)
    paused = set(getattr(consumer, "_paused_partitions", ()) or ())
    active = getattr(consumer, "_active_partitions", None)
    buffered = set(getattr(consumer, "_buffered_partitions", ()) or ())
    unacked: dict[Any, int] = {}
    for message in list(getattr(consumer, "_unacked_messages", ()) or ()):
        unacked[message.tp] = unacked.get(message.tp, 0) + 1
    partitions = tuple(
        _partition_state(tp, readers, highwaters, consumer, kafka, paused, active, buffered, unacked)
        for tp in sources
    )
    fetcher: Any = app._fetcher  # noqa: SLF001
    flow_control: Any = app.flow_control
    return WorkerState(
        generation=int(app.consumer_generation_id or 0),
        rebalancing=bool(app.rebalancing),
        in_recovery=bool(recovery.in_recovery),
        recovery_completed=recovery.completed.is_set(),
        recovery_restart_pending=recovery.signal_recovery_start.is_set(),
        active_remaining=int(recovery.active_remaining_total()),
        standby_remaining=int(_safe(recovery.standby_remaining_total, -1)),
        actives_ready=bool(app.tables.actives_ready),
        standbys_ready=bool(app.tables.standbys_ready),
        flow_active=bool(getattr(consumer, "flow_active", True)),
        flow_control_active=bool(flow_control.is_active()),
        fetcher=str(fetcher.state),
        highwaters_answered=answered,
        partitions=partitions,
    )


def _partition_state(
    tp: Any,
    readers: Mapping[str, tuple[str, ...]],
    highwaters: Mapping[Any, int],
    consumer: Any,
    kafka: Any,
    paused: set[Any],
    active: set[Any] | None,
    buffered: set[Any],
    unacked: Mapping[Any, int],
) -> PartitionState:
    state = _aiokafka_state(kafka, tp)
    position = state._position if state is not None else None  # noqa: SLF001 - read only
    return PartitionState(
        topic=tp.topic,
        partition=tp.partition,
        agents=readers.get(tp.topic, ()),
        highwater=highwaters.get(tp),
        read=consumer._read_offset.get(tp),  # noqa: SLF001
        committed=consumer._committed_offset.get(tp),  # noqa: SLF001
        position=position,
        paused_by_faust=tp in paused,
        active_in_faust=active is None or tp in active,
        buffer_full=tp in buffered,
        paused_in_aiokafka=bool(state is not None and state.paused),
        awaiting_reset=bool(state is not None and state.awaiting_reset),
        unacked=unacked.get(tp, 0),
    )


def _aiokafka_consumer(consumer: Any) -> Any:
    thread = getattr(consumer, "_thread", None)
    return getattr(thread, "_consumer", None)


def _aiokafka_state(kafka: Any, tp: Any) -> Any:
    try:
        assignment = kafka._subscription.subscription.assignment  # noqa: SLF001
        return assignment.state_value(tp)
    except Exception:  # noqa: BLE001 - no subscription (yet): no aiokafka state to report
        return None


def _safe(read: Callable[[], int], default: int) -> int:
    try:
        return read()
    except Exception:  # noqa: BLE001 - standby offsets may hold None mid-rebalance
        return default


class PartitionWatch(Service):
    """Logs this worker's consumer state every `interval_s`; warns about stalled partitions."""

    def __init__(
        self,
        app: faust.App,
        interval_s: float = INTERVAL_S,
        stall_after_s: float = STALL_AFTER_S,
        on_stall: Callable[[Stall], None] | None = None,
        **kwargs: Any,
    ) -> None:
        self.app = app
        self.interval_s = interval_s
        self.tracker = StallTracker(stall_after_s)
        self.on_stall = on_stall
        self._readers: dict[str, tuple[str, ...]] | None = None
        super().__init__(**kwargs)

    @Service.task
    async def _watch(self) -> None:
        async for _ in self.itertimer(self.interval_s, name="partition-liveness"):
            try:
                await self.check()
            except Exception:  # a watch that fails must not take the worker with it
                log.exception("partition liveness check failed")

    async def check(self) -> list[Stall]:
        if self._readers is None:
            self._readers = agents_by_topic(self.app)
        state = await worker_state(self.app, self._readers)
        if state is None:
            return []
        now = time.monotonic()
        stalls = self.tracker.observe(state, now)
        # At DEBUG while every partition with records waiting is being read and nothing is
        # rebalancing; at INFO once a partition has sat unread for a whole interval.
        level = logging.INFO if state.unsettled or self.tracker.idle(now) else logging.DEBUG
        log.log(level, "liveness: %s", state.summary())
        for stall in stalls:
            log.warning("partition stalled: %s", stall.message())
            if self.on_stall is not None:
                self.on_stall(stall)
        return stalls


def install(
    app: faust.App, interval_s: float = INTERVAL_S, stall_after_s: float = STALL_AFTER_S
) -> PartitionWatch:
    """Start the watch with the app (before table recovery, so a first recovery that hangs is
    reported too), on every worker: each watches only the partitions it owns."""
    watch = PartitionWatch(app, interval_s=interval_s, stall_after_s=stall_after_s)
    app.add_dependency(watch)
    return watch


def stalled_names(stalls: Iterable[Stall]) -> list[str]:
    return sorted(s.partition.name for s in stalls)
