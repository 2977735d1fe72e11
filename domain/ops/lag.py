"""Consumer lag as ops read it: how many records a group has not consumed yet, and how old
the oldest of them is. Pure arithmetic on offsets the infra layer fetched from Kafka."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class PartitionOffsets:
    """What Kafka says about one partition for one consumer group.

    `committed` is None when the group never committed there (it then starts from the
    earliest record: the app's `consumer_auto_offset_reset`). `oldest_unconsumed_at` is the
    timestamp of the record at the committed offset, None when it could not be read.
    """

    group: str
    topic: str
    partition: int
    committed: int | None
    log_start: int
    log_end: int
    oldest_unconsumed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    messages: int
    seconds: float | None  # None: lagging, but the oldest record's age is unknown


@dataclass(frozen=True, slots=True)
class TopicLag:
    """A topic's lag for a group: messages summed over partitions, seconds the worst partition."""

    group: str
    topic: str
    messages: int
    seconds: float | None
    partitions: int


def next_offset(offsets: PartitionOffsets) -> int:
    """Where the group will read next: its commit, moved up past records retention deleted."""
    if offsets.committed is None or offsets.committed < 0:
        return offsets.log_start
    return min(max(offsets.committed, offsets.log_start), offsets.log_end)


def partition_lag(offsets: PartitionOffsets, now: datetime) -> PartitionLag:
    """Messages not yet consumed, and seconds since the oldest of them was written.

    A partition with nothing to consume has zero lag in seconds however old its last record.
    A clock running behind the producer's never yields a negative age.
    """
    messages = max(offsets.log_end - next_offset(offsets), 0)
    seconds: float | None
    if messages == 0:
        seconds = 0.0
    elif offsets.oldest_unconsumed_at is None:
        seconds = None
    else:
        seconds = max((now - offsets.oldest_unconsumed_at).total_seconds(), 0.0)
    return PartitionLag(offsets.group, offsets.topic, offsets.partition, messages, seconds)


def topic_lags(lags: Iterable[PartitionLag]) -> list[TopicLag]:
    """Per group and topic, sorted by group then topic."""
    grouped: dict[tuple[str, str], list[PartitionLag]] = {}
    for lag in lags:
        grouped.setdefault((lag.group, lag.topic), []).append(lag)
    result = []
    for (group, topic), parts in sorted(grouped.items()):
        lagging = [p for p in parts if p.messages > 0]
        dated = [p.seconds for p in lagging if p.seconds is not None]
        result.append(
            TopicLag(
                group=group,
                topic=topic,
                messages=sum(p.messages for p in parts),
                # Unknown only when the topic lags and none of its lagging partitions could be dated.
                seconds=None if lagging and not dated else max(dated, default=0.0),
                partitions=len(parts),
            )
        )
    return result


@dataclass(frozen=True, slots=True)
class OffsetSample:
    """Offsets of one topic for one group at one instant: for rates between two samples."""

    at: datetime
    produced: int  # sum of log-end offsets
    consumed: int  # sum of next offsets of the group


def per_second(before: OffsetSample, after: OffsetSample) -> tuple[float, float]:
    """(produced/s, consumed/s) between two samples; zero when no time passed."""
    elapsed = (after.at - before.at).total_seconds()
    if elapsed <= 0:
        return 0.0, 0.0
    produced = max(after.produced - before.produced, 0) / elapsed
    consumed = max(after.consumed - before.consumed, 0) / elapsed
    return produced, consumed


def offset_sample(offsets: Iterable[PartitionOffsets], at: datetime) -> OffsetSample:
    parts = list(offsets)
    return OffsetSample(
        at=at,
        produced=sum(p.log_end for p in parts),
        consumed=sum(next_offset(p) for p in parts),
    )
