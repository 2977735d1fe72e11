"""The fault schedule of `make chaos`: which fault, at which second of the load, on what. Pure.

A long run shuffles rounds of every kind the cluster allows (a seeded shuffle per round) and
spaces the faults by each kind's span: the fault itself and the recovery the stack is given
before the next one starts, so one fault's recovery mostly ends before the next begins. What
time is left over is spread at random between them. The short run (inside `make test`, on
the session's single broker, whose PostgreSQL other tests share) is a fixed handful.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

Kind = Literal[
    "worker_kill",
    "worker_pause",
    "worker_join",
    "worker_leave",
    "broker_kill",
    "postgres_restart",
    "web_restart",
    "burst",
    "poison",
]

# SIGSTOP for the worker's session (10 s, streams/app.py) and 5 s more: the group gives it up.
PAUSE_S = 15.0
BROKER_DOWN_S = 20.0
POSTGRES_DOWN_S = 5.0
BURST_S = 10.0
BURST_FACTOR = 10
# Seconds from a fault's start until the next may start: the fault, then its recovery.
SPAN_S: dict[Kind, float] = {
    "worker_kill": 25.0,  # restart in ~3 s, the dead member's 10 s session, a rebalance
    "worker_pause": PAUSE_S + 15.0,  # the group without it, then again with it
    "worker_join": 20.0,  # start-up, a rebalance, table recovery
    "worker_leave": 15.0,  # SIGTERM: it leaves at once, a rebalance
    "broker_kill": BROKER_DOWN_S + 25.0,  # leaders move, the node restarts, replicas catch up
    "postgres_restart": POSTGRES_DOWN_S + 15.0,  # the sink's backoff reaches 10 s
    "web_restart": 10.0,
    "burst": BURST_S + 15.0,  # ten times the rate, then the backlog drains
    "poison": 5.0,
}
LEAD_IN_S = 30.0  # steady load before the first fault
TAIL_S = 30.0  # after the last fault's span, before the load stops
# The share of the time between them that the faults' spans fill; the rest is spread at random.
FILLED = 0.85
WORKERS = ("worker-1", "worker-2", "worker-3")
# Workers 2 and 3 join and leave in this order, round after round.
SCALING: tuple[tuple[Kind, str], ...] = (
    ("worker_join", "worker-2"),
    ("worker_join", "worker-3"),
    ("worker_leave", "worker-3"),
    ("worker_leave", "worker-2"),
)
BROKER_TARGET = "leader of tickets.events[0]"
TARGETS: dict[Kind, str] = {
    "broker_kill": BROKER_TARGET,
    "postgres_restart": "postgres",
    "web_restart": "web",
    "burst": "appeals.intake",
    "poison": "appeals.intake, tickets.commands, a unit's actions",
}
SHORT_LOAD_S = 70.0
# (second, kind): a worker joins, one is killed, one paused, the joined one leaves, and
# hostile records and a burst arrive; no broker or PostgreSQL fault (both shared in the test).
SHORT_PLAN: tuple[tuple[float, Kind], ...] = (
    (3.0, "poison"),
    (6.0, "worker_join"),
    (16.0, "worker_kill"),
    (28.0, "burst"),
    (40.0, "worker_pause"),
    (62.0, "worker_leave"),
)


@dataclass(frozen=True)
class PlannedFault:
    at_s: float  # seconds after the load started
    kind: Kind
    target: str


def load_s(minutes: float, short: bool) -> float:
    """How long the simulators feed the stack."""
    return SHORT_LOAD_S if short else minutes * 60.0


def schedule(
    minutes: float, brokers: int, seed: int, short: bool, *, restart_postgres: bool = True
) -> list[PlannedFault]:
    """The faults of one run, in order. A broker is killed only on three brokers or more,
    PostgreSQL restarted only when `restart_postgres` (the run's own server) and never short."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible plan, not security
    if short:
        return _short(rng)
    budget_s = load_s(minutes, short) - LEAD_IN_S - TAIL_S
    kinds = _fill(_round(brokers, restart_postgres), budget_s * FILLED, rng)
    return _spaced(_targeted(kinds, rng), budget_s, rng)


def _round(brokers: int, restart_postgres: bool) -> list[Kind | Literal["scale"]]:
    """One of each fault, two kills, and two scaling moves (a join or a leave)."""
    slots: list[Kind | Literal["scale"]] = ["worker_kill", "worker_kill", "worker_pause", "scale", "scale"]
    slots += ["web_restart", "burst", "poison"]
    slots += ["broker_kill"] if brokers >= 3 else []
    slots += ["postgres_restart"] if restart_postgres else []
    return slots


def _fill(slots: list[Kind | Literal["scale"]], budget_s: float, rng: random.Random) -> list[Kind]:
    """Shuffled rounds of `slots` while their spans fit in `budget_s` (a slot that no longer
    fits is skipped for a shorter one); scaling slots become the next join or leave."""
    kinds: list[Kind] = []
    used, scaled = 0.0, 0
    while True:
        added = False
        for slot in rng.sample(slots, len(slots)):
            kind = SCALING[scaled % len(SCALING)][0] if slot == "scale" else slot
            if used + SPAN_S[kind] > budget_s:
                continue
            kinds.append(kind)
            used += SPAN_S[kind]
            scaled += slot == "scale"
            added = True
        if not added:
            return kinds


def _targeted(kinds: list[Kind], rng: random.Random) -> list[tuple[Kind, str]]:
    """Each fault's target: joins and leaves in SCALING's order; a kill or a pause hits a
    worker running then (the first kill hits worker 1)."""
    running, scaled, killed = ["worker-1"], 0, False
    targeted: list[tuple[Kind, str]] = []
    for kind in kinds:
        if kind in ("worker_join", "worker_leave"):
            target = SCALING[scaled % len(SCALING)][1]
            scaled += 1
            running = [*running, target] if kind == "worker_join" else [w for w in running if w != target]
        elif kind in ("worker_kill", "worker_pause"):
            target = rng.choice(running) if killed or kind == "worker_pause" else "worker-1"
            killed = killed or kind == "worker_kill"
        else:
            target = TARGETS[kind]
        targeted.append((kind, target))
    return targeted


def _spaced(targeted: list[tuple[Kind, str]], budget_s: float, rng: random.Random) -> list[PlannedFault]:
    """Offsets: LEAD_IN_S, then each fault's span, with the time left spread at random (in
    tenths of a second, so the spacing holds exactly)."""
    slack_ds = int(budget_s * 10) - sum(int(SPAN_S[kind] * 10) for kind, _ in targeted)
    weights = [rng.random() for _ in range(len(targeted) + 1)]  # the last share stays at the end
    planned, at_ds = [], int(LEAD_IN_S * 10)
    for (kind, target), weight in zip(targeted, weights, strict=False):
        at_ds += int(slack_ds * weight / sum(weights))
        planned.append(PlannedFault(at_ds / 10, kind, target))
        at_ds += int(SPAN_S[kind] * 10)
    return planned


def _short(rng: random.Random) -> list[PlannedFault]:
    kill, pause = rng.choice(["worker-1", "worker-2"]), rng.choice(["worker-1", "worker-2"])
    targets: dict[Kind, str] = {
        **TARGETS,
        "worker_join": "worker-2",
        "worker_leave": "worker-2",
        "worker_kill": kill,
        "worker_pause": pause,
    }
    return [PlannedFault(at, kind, targets[kind]) for at, kind in SHORT_PLAN]
