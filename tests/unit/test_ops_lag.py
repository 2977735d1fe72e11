"""Consumer lag arithmetic: messages behind, the oldest unconsumed record's age, rates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.ops.lag import (
    OffsetSample,
    PartitionLag,
    PartitionOffsets,
    TopicLag,
    next_offset,
    offset_sample,
    partition_lag,
    per_second,
    topic_lags,
)

NOW = datetime(2026, 3, 2, 1, 15, tzinfo=UTC)


def offsets(committed: int | None, start: int, end: int, age_s: float | None = None) -> PartitionOffsets:
    oldest = None if age_s is None else NOW - timedelta(seconds=age_s)
    return PartitionOffsets("shaobao", "tickets.events", 0, committed, start, end, oldest)


@pytest.mark.parametrize(
    ("committed", "start", "end", "age_s", "messages", "seconds"),
    [
        (120, 0, 120, None, 0, 0.0),  # caught up: no lag, whatever the last record's age
        (100, 0, 120, 42.5, 20, 42.5),  # 20 behind, the oldest written 42.5 s ago
        (None, 0, 7, 3.0, 7, 3.0),  # never committed: reads from the earliest record
        (-1, 0, 7, 3.0, 7, 3.0),  # Kafka's "no offset" for an explicitly asked partition
        (10, 50, 80, 9.0, 30, 9.0),  # retention deleted what it had not read: from log start
        (100, 0, 120, None, 20, None),  # lagging, but the record could not be read in time
        (100, 0, 120, -5.0, 20, 0.0),  # producer clock ahead of ours: never a negative age
        (None, 0, 0, None, 0, 0.0),  # empty partition
    ],
)
def test_partition_lag_is_records_behind_and_the_age_of_the_oldest(
    committed: int | None, start: int, end: int, age_s: float | None, messages: int, seconds: float | None
) -> None:
    assert partition_lag(offsets(committed, start, end, age_s), NOW) == PartitionLag(
        "shaobao", "tickets.events", 0, messages, seconds
    )


@given(
    committed=st.one_of(st.none(), st.integers(-1, 10_000)),
    start=st.integers(0, 5_000),
    extra=st.integers(0, 5_000),
)
def test_lag_is_never_negative_nor_more_than_the_records_kept(
    committed: int | None, start: int, extra: int
) -> None:
    end = start + extra
    lag = partition_lag(offsets(committed, start, end, 1.0), NOW)
    assert 0 <= lag.messages <= end - start
    assert start <= next_offset(offsets(committed, start, end)) <= end


def test_a_topic_sums_its_partitions_and_takes_the_worst_age() -> None:
    lags = [
        PartitionLag("g", "b", 0, 5, 10.0),
        PartitionLag("g", "b", 1, 0, 0.0),
        PartitionLag("g", "b", 2, 7, None),  # undated: the dated partition still speaks
        PartitionLag("g", "a", 0, 3, None),  # the only lagging partition is undated
        PartitionLag("g", "a", 1, 0, 0.0),
        PartitionLag("g", "c", 0, 0, 0.0),
    ]
    assert topic_lags(lags) == [
        TopicLag("g", "a", 3, None, 2),
        TopicLag("g", "b", 12, 10.0, 3),
        TopicLag("g", "c", 0, 0.0, 1),
    ]


def test_rates_are_offsets_moved_per_second_between_two_samples() -> None:
    before = offset_sample([offsets(90, 0, 100), offsets(None, 0, 10)], NOW)
    after = offset_sample([offsets(110, 0, 130), offsets(5, 0, 10)], NOW + timedelta(seconds=2))
    assert (before.produced, before.consumed, after.produced, after.consumed) == (110, 90, 140, 115)
    assert per_second(before, after) == (15.0, 12.5)


def test_rates_are_zero_when_no_time_passed_or_offsets_went_back() -> None:
    sample = OffsetSample(NOW, 10, 10)
    assert per_second(sample, sample) == (0.0, 0.0)
    assert per_second(OffsetSample(NOW, 10, 10), OffsetSample(NOW + timedelta(seconds=1), 5, 5)) == (0.0, 0.0)
