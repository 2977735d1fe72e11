"""The partition watch: which agent sits idle on which partition with records waiting, and why."""

from __future__ import annotations

from dataclasses import replace

from streams.liveness import PartitionState, StallTracker, WorkerState, causes

STEADY = WorkerState(
    generation=2,
    rebalancing=False,
    in_recovery=False,
    recovery_completed=True,
    recovery_restart_pending=False,
    active_remaining=0,
    standby_remaining=0,
    actives_ready=True,
    standbys_ready=True,
    flow_active=True,
    flow_control_active=True,
    fetcher="running",
    highwaters_answered=True,
)
INTAKE_3 = PartitionState(
    topic="t.appeals.intake",
    partition=3,
    agents=("take_in_appeals",),
    highwater=1,
    read=None,
    committed=None,
    position=1,
    paused_by_faust=False,
    active_in_faust=True,
    buffer_full=False,
    paused_in_aiokafka=False,
    awaiting_reset=False,
    unacked=0,
)


def worker(*partitions: PartitionState, **changes: object) -> WorkerState:
    return replace(STEADY, partitions=partitions, **changes)  # type: ignore[arg-type]


def test_a_partition_with_records_waiting_and_no_progress_is_reported_after_the_threshold() -> None:
    tracker = StallTracker(stall_after_s=15)
    assert tracker.observe(worker(INTAKE_3), now=100) == []
    assert tracker.observe(worker(INTAKE_3), now=110) == []
    (stall,) = tracker.observe(worker(INTAKE_3), now=116)
    assert stall.idle_s == 16
    # The two-worker stall as it was seen: the record fetched (position 1) but never handed over.
    assert stall.causes == ("fetched up to 1 but not handed to the stream",)
    message = stall.message()
    assert "take_in_appeals idle on t.appeals.intake[3] for 16s with 1 record(s) waiting" in message
    assert "read=None committed=None position=1 highwater=1" in message


def test_progress_restarts_the_clock_and_a_partition_without_lag_is_never_reported() -> None:
    tracker = StallTracker(stall_after_s=15)
    busy = replace(INTAKE_3, highwater=50, read=10, position=11)
    tracker.observe(worker(busy), now=0)
    assert tracker.observe(worker(replace(busy, read=20, position=21)), now=14) == []
    assert tracker.observe(worker(replace(busy, read=30, position=31)), now=28) == []
    caught_up = replace(busy, read=49, position=50)
    assert tracker.observe(worker(caught_up), now=100) == []
    assert caught_up.lag == 0


def test_every_cause_found_in_the_consumer_state_is_named() -> None:
    unsettled = worker(
        rebalancing=True,
        in_recovery=True,
        active_remaining=7,
        recovery_completed=False,
        flow_active=False,
        flow_control_active=False,
        fetcher="init",
    )
    paused = replace(
        INTAKE_3, paused_by_faust=True, paused_in_aiokafka=True, position=0, unacked=2, buffer_full=True
    )
    found = causes(unsettled, paused)
    assert found == (
        "the worker is still rebalancing (app.rebalancing)",
        "tables in recovery (active_remaining=7)",
        "recovery has not completed for this generation",
        "consumer flow stopped (stop_flow without resume_flow)",
        "app flow control suspended",
        "Faust's fetcher is init",
        "paused by Faust (consumer._paused_partitions)",
        "the agent's stream buffer is full",
        "paused in aiokafka",
        "the agent holds 2 unacked record(s): its body has not returned",
    )
    assert causes(STEADY, replace(INTAKE_3, position=0)) == ("no cause found in the consumer's state",)
    assert causes(STEADY, replace(INTAKE_3, position=0, active_in_faust=False)) == (
        "missing from Faust's active partitions (never fetched)",
    )


def test_the_next_record_to_read_follows_the_read_offset_then_the_commit() -> None:
    assert replace(INTAKE_3, read=4, committed=2, highwater=9).lag == 4
    assert replace(INTAKE_3, read=None, committed=2, highwater=9).lag == 7
    assert replace(INTAKE_3, highwater=None).lag == 0


def test_a_partition_sitting_unread_for_an_interval_is_counted_idle() -> None:
    tracker = StallTracker(stall_after_s=15)
    tracker.observe(worker(INTAKE_3), now=0)
    assert tracker.idle(0) == 0  # first seen now: not yet idle
    tracker.observe(worker(INTAKE_3), now=5)
    assert tracker.idle(5) == 1
    tracker.observe(worker(replace(INTAKE_3, read=0, highwater=2)), now=10)
    assert tracker.idle(10) == 0  # read on: its clock restarted
