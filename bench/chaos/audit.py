"""The outcomes of a chaos run, measured exactly from the topics and the store (issue 16).

`measure` waits for the pipeline to drain, reads every record that matters (`audit_read`),
runs `shaobao verify`, and hands the records to `audit`, which is pure. The definitions live
one per module, each from the domain's own rules:
- `audit_fates`: each intake record's fate, by the keys of the crash-recovery test;
- `audit_orders`: work orders conflicting on a unit's topic, or missing from it;
- `audit_marks`: time-limit marks missed or recorded twice;
- `audit_timing`: the longest stall, and dispatch latency in quiet times and during faults.
Times are Kafka record timestamps throughout (the intake record's is the appeal's arrival).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from bench.chaos.audit_fates import KINDS, AppealFate, intake_fates
from bench.chaos.audit_log import Logs, ticket_logs
from bench.chaos.audit_marks import mark_counts
from bench.chaos.audit_orders import order_counts
from bench.chaos.audit_read import read_logs, run_verify, wait_until_drained
from bench.chaos.audit_timing import (
    Waited,
    longest_s,
    nearest_rank,
    split_latencies_ms,
    stall_around_s,
    stalls,
)
from domain.jurisdiction import Jurisdiction
from infra.reference import load_jurisdiction
from shaobao.launch import Pipeline

SETTLE_S = 180.0  # how long `measure` waits for the pipeline to drain at most
GRACE_S = 30.0  # the bound on a stall: a mark (or an order) this late is owed
FAULT_TAIL_S = 30.0  # an appeal arriving this long after a fault was lifted is still "during faults"
STALL_TAIL_S = 5.0  # a stall starting this long after a fault was lifted is still the fault's


@dataclass(frozen=True)
class FaultWindow:
    """One fault, as the runner recorded it."""

    kind: str
    started_at: datetime  # aware UTC
    ended_at: datetime  # when the fault was lifted (== started_at for instantaneous ones)


@dataclass(frozen=True)
class Outcomes:
    """What the audit found. `fates` counts the records with exactly one fate, so its values
    plus `appeals_unaccounted` make `appeals` ("forwarded" appears only when some were)."""

    appeals: int
    appeals_unaccounted: int
    fates: dict[str, int]
    orders_conflicting: int
    orders_missing: int
    marks_missed: int
    marks_doubled: int
    verify_differences: int
    max_stall_s: float
    dispatch_p50_ms_quiet: float | None
    dispatch_p99_ms_quiet: float | None
    dispatch_p50_ms_faults: float | None
    dispatch_p99_ms_faults: float | None
    # Per fault window, in the order given: the longest stall overlapping it (its tail included).
    stall_by_fault_s: tuple[float, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def audit(
    logs: Logs,
    windows: Sequence[FaultWindow],
    jurisdiction: Jurisdiction,
    *,
    verify_differences: int,
    grace_s: float = GRACE_S,
) -> Outcomes:
    """The outcomes of the records read. Orders are owed for events logged more than `grace_s`
    before the read, marks as `audit_marks` says; appeals without exactly one fate are left
    out of the stall and the latencies (they are counted as unaccounted)."""
    tickets = ticket_logs(logs.events)
    appeals = intake_fates(logs, tickets)
    accounted = [a for a in appeals if a.accounted]
    orders = order_counts(tickets, logs.orders, jurisdiction, logs.read_at - timedelta(seconds=grace_s))
    marks = mark_counts(tickets, logs.read_at, grace_s)
    spans = [(w.started_at, w.ended_at) for w in windows]
    quiet, faults = split_latencies_ms(_waited(accounted, ("ticket",)), spans, FAULT_TAIL_S)
    stalled = stalls(_waited(accounted, KINDS))
    return Outcomes(
        appeals=len(appeals),
        appeals_unaccounted=len(appeals) - len(accounted),
        fates=dict.fromkeys(KINDS, 0) | Counter(a.fates[0].kind for a in accounted),
        orders_conflicting=orders.conflicting,
        orders_missing=orders.missing,
        marks_missed=marks.missed,
        marks_doubled=marks.doubled,
        verify_differences=verify_differences,
        max_stall_s=longest_s(stalled),
        dispatch_p50_ms_quiet=nearest_rank(quiet, 50),
        dispatch_p99_ms_quiet=nearest_rank(quiet, 99),
        dispatch_p50_ms_faults=nearest_rank(faults, 50),
        dispatch_p99_ms_faults=nearest_rank(faults, 99),
        stall_by_fault_s=tuple(stall_around_s(stalled, span, STALL_TAIL_S) for span in spans),
    )


def _waited(appeals: Iterable[AppealFate], kinds: Sequence[str]) -> list[Waited]:
    """(arrived, decided) of the appeals whose one fate is of `kinds` and was decided."""
    return [
        (a.arrived_at, fate.decided_at)
        for a in appeals
        for fate in a.fates
        if fate.kind in kinds and fate.decided_at is not None
    ]


async def measure(
    pipeline: Pipeline,
    windows: Sequence[FaultWindow],
    *,
    settle_s: float = SETTLE_S,
    grace_s: float = GRACE_S,
    verify_differences: int | None = None,
) -> Outcomes:
    """Wait until the pipeline has drained (at most `settle_s`), then measure. `shaobao verify`
    is run unless the runner passes its count in `verify_differences`."""
    settings, names = pipeline.settings, pipeline.names
    drained = await wait_until_drained(settings.kafka, names, settings.database_url, settle_s)
    if not drained:
        print(f"audit: not drained after {settle_s:.0f} s; measuring what there is", flush=True)
    jurisdiction = load_jurisdiction(settings.jurisdiction_file)
    started = time.monotonic()
    logs = await read_logs(settings.kafka, names, jurisdiction.unit_codes)
    read = len(logs.intake) + len(logs.events) + sum(len(r) for r in logs.orders.values())
    print(f"audit: read {read} records in {time.monotonic() - started:.1f} s", flush=True)
    if verify_differences is None:
        verify_differences = await run_verify(pipeline.env)
        print(f"audit: shaobao verify: {verify_differences} differences", flush=True)
    # Folding every ticket takes a while on a long run: off the event loop the runner shares.
    return await asyncio.to_thread(
        audit, logs, windows, jurisdiction, verify_differences=verify_differences, grace_s=grace_s
    )
