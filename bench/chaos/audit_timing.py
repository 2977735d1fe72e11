"""How long appeals waited: the longest stall of the whole pipeline, and dispatch latency
split by whether the appeal arrived during a fault. Pure; times are Kafka record timestamps.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

Waited = tuple[datetime, datetime]  # (arrived_at, decided_at) of one appeal
Span = tuple[datetime, datetime]  # (started_at, ended_at) of one fault


def stalls(appeals: Iterable[Waited]) -> list[Span]:
    """Every interval in which at least one appeal was waiting (arrived, not decided) and no
    appeal at all was decided, as (began, ended), in order.

    A decision stamped before its own arrival (clocks of two producers) counts at the arrival.
    At one instant arrivals come first, so an appeal decided as it arrives waited 0 s.
    """
    moments: list[tuple[datetime, bool]] = []  # (when, is a decision)
    for arrived_at, decided_at in appeals:
        moments += [(arrived_at, False), (max(arrived_at, decided_at), True)]
    moments.sort()
    waiting = 0
    found: list[Span] = []
    since: datetime | None = None  # when the stall in course began
    for at, decision in moments:
        if not decision:
            waiting += 1
            if since is None:
                since = at  # nothing was waiting: a stall can start only now
            continue
        if since is not None and at > since:
            found.append((since, at))
        waiting -= 1
        since = at if waiting else None
    return found


def longest_s(spans: Iterable[Span]) -> float:
    """The longest of `spans` in seconds; 0.0 when there is none."""
    return max(((end - start).total_seconds() for start, end in spans), default=0.0)


def max_stall_s(appeals: Iterable[Waited]) -> float:
    """The longest of the `stalls`, in seconds; 0.0 when there is none."""
    return longest_s(stalls(appeals))


def stall_around_s(found: Sequence[Span], fault: Span, after_s: float) -> float:
    """The longest stall that overlaps `[started_at, ended_at + after_s]` of one fault: for a
    worker joining or leaving, how long dispatching stopped for the rebalance; 0.0 if none."""
    start, end = fault[0], fault[1] + timedelta(seconds=after_s)
    return longest_s((s, e) for s, e in found if s <= end and e >= start)


def split_latencies_ms(
    appeals: Iterable[Waited], faults: Sequence[Span], after_s: float
) -> tuple[list[float], list[float]]:
    """Each appeal's decided_at - arrived_at in ms, as (quiet, during faults): an appeal is
    "during faults" when it arrived inside some `[started_at, ended_at + after_s]`."""
    tail = timedelta(seconds=after_s)
    quiet: list[float] = []
    faulty: list[float] = []
    for arrived_at, decided_at in appeals:
        latency_ms = (decided_at - arrived_at).total_seconds() * 1000
        during = any(start <= arrived_at <= end + tail for start, end in faults)
        (faulty if during else quiet).append(latency_ms)
    return quiet, faulty


def nearest_rank(values: Sequence[float], percent: int) -> float | None:
    """The `percent`-th percentile by the nearest-rank method: the smallest value with at least
    `percent`% of the values at or below it (rank ⌈percent·n/100⌉); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-percent * len(ordered) // 100))
    return ordered[rank - 1]
