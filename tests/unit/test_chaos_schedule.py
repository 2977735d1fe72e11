"""The chaos schedule (`bench.chaos.schedule`): enough faults of enough kinds, spaced so each
one's recovery ends before the next starts, workers joining and leaving only as they can, and
the short run a fixed handful that fits inside `make test`."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.chaos.schedule import (
    BURST_S,
    LEAD_IN_S,
    PAUSE_S,
    SHORT_LOAD_S,
    SPAN_S,
    TAIL_S,
    PlannedFault,
    load_s,
    schedule,
)

SEEDS = range(40)


def kinds(planned: list[PlannedFault]) -> Counter[str]:
    return Counter(fault.kind for fault in planned)


@pytest.mark.parametrize("seed", SEEDS)
def test_ten_minutes_on_three_brokers_hold_at_least_twenty_faults_of_every_kind(seed: int) -> None:
    planned = schedule(10, brokers=3, seed=seed, short=False)
    assert len(planned) >= 20
    assert set(kinds(planned)) == set(SPAN_S)  # all nine, broker and PostgreSQL included


@pytest.mark.parametrize("seed", SEEDS)
def test_one_broker_and_a_shared_postgres_still_give_twenty_faults_of_seven_kinds(seed: int) -> None:
    planned = schedule(10, brokers=1, seed=seed, short=False, restart_postgres=False)
    assert len(planned) >= 20
    assert set(kinds(planned)) == set(SPAN_S) - {"broker_kill", "postgres_restart"}


@pytest.mark.parametrize(("brokers", "restart_postgres"), [(3, True), (3, False), (1, True), (1, False)])
@pytest.mark.parametrize("seed", SEEDS)
def test_each_fault_starts_after_the_last_ones_span_and_all_within_the_load(
    seed: int, brokers: int, restart_postgres: bool
) -> None:
    planned = schedule(10, brokers, seed, short=False, restart_postgres=restart_postgres)
    assert planned[0].at_s >= LEAD_IN_S
    for before, after in zip(planned, planned[1:], strict=False):
        assert after.at_s >= before.at_s + SPAN_S[before.kind], (before, after)
    assert planned[-1].at_s + SPAN_S[planned[-1].kind] <= load_s(10, short=False) - TAIL_S
    assert all(round(f.at_s, 1) == f.at_s for f in planned)


@pytest.mark.parametrize("seed", SEEDS)
def test_workers_join_before_they_leave_and_are_killed_or_paused_only_while_running(seed: int) -> None:
    running = {"worker-1"}
    for fault in schedule(10, brokers=3, seed=seed, short=False):
        if fault.kind == "worker_join":
            assert fault.target in {"worker-2", "worker-3"} - running, fault
            running.add(fault.target)
        elif fault.kind == "worker_leave":
            assert fault.target in running - {"worker-1"}, fault
            running.remove(fault.target)
        elif fault.kind in ("worker_kill", "worker_pause"):
            assert fault.target in running, fault


@pytest.mark.parametrize("seed", SEEDS)
def test_the_first_kill_hits_worker_one_whose_restart_every_run_must_survive(seed: int) -> None:
    kills = [f for f in schedule(10, brokers=3, seed=seed, short=False) if f.kind == "worker_kill"]
    assert kills[0].target == "worker-1"


def test_the_same_seed_gives_the_same_schedule_and_another_seed_another() -> None:
    assert schedule(10, 3, seed=7, short=False) == schedule(10, 3, seed=7, short=False)
    assert schedule(10, 3, seed=7, short=False) != schedule(10, 3, seed=8, short=False)


def test_a_longer_run_holds_more_faults() -> None:
    assert len(schedule(20, 3, seed=1, short=False)) > len(schedule(10, 3, seed=1, short=False))


@pytest.mark.parametrize("seed", SEEDS)
def test_the_short_run_is_six_faults_of_six_kinds_on_the_test_broker_within_70_seconds(seed: int) -> None:
    planned = schedule(10, brokers=1, seed=seed, short=True)
    assert [(f.at_s, f.kind) for f in planned] == [
        (3.0, "poison"),
        (6.0, "worker_join"),
        (16.0, "worker_kill"),
        (28.0, "burst"),
        (40.0, "worker_pause"),
        (62.0, "worker_leave"),
    ]
    assert load_s(10, short=True) == SHORT_LOAD_S == 70.0
    join, kill, pause, leave = (next(f for f in planned if f.kind == k) for k in SHORT_KINDS)
    burst = planned[3]
    # Compressed: recoveries may overlap, but no fault strikes while another still acts.
    assert burst.at_s + BURST_S < pause.at_s and pause.at_s + PAUSE_S < leave.at_s < SHORT_LOAD_S
    assert join.target == leave.target == "worker-2"
    assert {kill.target, pause.target} <= {"worker-1", "worker-2"}


SHORT_KINDS = ("worker_join", "worker_kill", "worker_pause", "worker_leave")


def test_the_short_run_never_touches_a_shared_broker_or_postgres_even_when_asked_for_three() -> None:
    assert not {"broker_kill", "postgres_restart"} & set(kinds(schedule(10, brokers=3, seed=0, short=True)))
