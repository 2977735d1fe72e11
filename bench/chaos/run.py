"""One chaos run: the stack under steady load, the schedule's faults at their seconds, then the
load stopped (the workers kept) and the outcomes measured from the topics and the store."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.chaos import audit
from bench.chaos.faults import FaultRecord, perform
from bench.chaos.schedule import PlannedFault, load_s, schedule
from bench.chaos.stack import Exit, Services, Stack, open_stack, say
from shaobao.launch import Pipeline

PROGRESS_EVERY_S = 15.0
# The outcomes that must be exactly zero, and the longest a waiting appeal may go undispatched.
ZERO_OUTCOMES = (
    "appeals_unaccounted",
    "orders_conflicting",
    "orders_missing",
    "marks_missed",
    "marks_doubled",
    "verify_differences",
)
MAX_STALL_S = 30.0
# How long the audit may wait for the pipeline to drain in a short run: its last tickets' marks
# keep falling due for 75 s after the load stops (store rows still growing), which a run of at
# most three minutes cannot wait out; every appeal has its fate well within this.
SHORT_SETTLE_S = 40.0


@dataclass(frozen=True)
class ChaosResult:
    pipeline: Pipeline  # its topics and database stay for a look afterwards
    outcomes: audit.Outcomes
    planned: Sequence[PlannedFault]
    faults: Sequence[FaultRecord]
    exits: Sequence[Exit]
    intake_records: int  # on `appeals.intake` once the load stopped: simulator, bursts, poison
    brokers: int
    workers_max: int
    rate_per_s: float
    seed: int
    short: bool
    started_at: datetime
    load_s: float
    duration_s: float

    def failures(self) -> list[str]:
        """Why the run fails: an outcome that should be zero is not, a stall too long, a fault
        that could not be performed or recovered from; empty when it passes."""
        outcomes = self.outcomes.as_dict()
        found = [f"{name} = {outcomes[name]}" for name in ZERO_OUTCOMES if outcomes[name] != 0]
        if self.outcomes.max_stall_s > MAX_STALL_S:
            found.append(f"max_stall_s = {self.outcomes.max_stall_s} > {MAX_STALL_S:g}")
        found += [
            f"{f.kind} on {f.target} at {f.planned_at_s:g} s: {f.observed}" for f in self.faults if f.failed
        ]
        return found

    def as_dict(self) -> dict[str, object]:
        restarts = Counter(e.process for e in self.exits)
        return {
            **self.outcomes.as_dict(),
            "intake_records": self.intake_records,
            "faults": dict(Counter(f.kind for f in self.faults)),
            "fault_log": [f.as_dict() for f in self.faults],
            "restarts": dict(restarts),
            "unplanned_exits": [
                {"process": e.process, "at": e.at.isoformat(), "exit_code": e.code}
                for e in self.exits
                if not e.planned
            ],
            "brokers": self.brokers,
            "workers_max": self.workers_max,
            "mode": "short" if self.short else "long",
            "started_at": self.started_at.isoformat(),
            "load_s": self.load_s,
            "duration_s": self.duration_s,
            "rate_per_s": self.rate_per_s,
            "seed": self.seed,
            "failures": self.failures(),
        }


async def run_chaos(
    services: Services,
    workdir: Path,
    *,
    short: bool,
    minutes: float = 10.0,
    rate: float = 5.0,
    seed: int = 0,
) -> ChaosResult:
    """Start the stack on `services` in `workdir`, run the schedule under load, measure."""
    planned = schedule(minutes, services.brokers, seed, short, restart_postgres=services.postgres is not None)
    kinds = Counter(p.kind for p in planned)
    say(f"{len(planned)} faults planned (seed {seed}): " + ", ".join(f"{k} ×{n}" for k, n in kinds.items()))
    started_at, began = datetime.now(UTC), time.monotonic()
    stack = await open_stack(services, workdir, rate, short)
    say(f"stack ready in {time.monotonic() - began:.1f} s; logs in {stack.logs}")
    supervising = asyncio.create_task(stack.supervise())
    try:
        stack.start_load()
        load_began = time.monotonic()
        say(f"load on: {rate:g} appeals/s, units and callbacks simulators")
        reporting = asyncio.create_task(_progress(stack, load_began))
        try:
            records = await asyncio.gather(*(_at(stack, fault, load_began) for fault in planned))
            await asyncio.sleep(max(0.0, load_began + load_s(minutes, short) - time.monotonic()))
        finally:
            reporting.cancel()
            await stack.stop_load()
        loaded_s = time.monotonic() - load_began
        intake = await stack.intake_records()
        say(f"load off after {loaded_s:.0f} s: {intake} records on the intake; measuring")
        windows = [audit.FaultWindow(r.kind, r.started_at, r.ended_at) for r in records]
        settle_s = SHORT_SETTLE_S if short else audit.SETTLE_S
        outcomes = await audit.measure(stack.pipeline, windows, settle_s=settle_s)
    finally:
        supervising.cancel()
        await stack.stop_all()
    return ChaosResult(
        pipeline=stack.pipeline,
        outcomes=outcomes,
        planned=planned,
        faults=records,
        exits=stack.exits,
        intake_records=intake,
        brokers=services.brokers,
        workers_max=stack.workers_max,
        rate_per_s=rate,
        seed=seed,
        short=short,
        started_at=started_at,
        load_s=round(loaded_s, 1),
        duration_s=round(time.monotonic() - began, 1),
    )


async def _at(stack: Stack, planned: PlannedFault, load_began: float) -> FaultRecord:
    await asyncio.sleep(max(0.0, load_began + planned.at_s - time.monotonic()))
    say(f"fault {planned.kind} on {planned.target} (planned at {planned.at_s:g} s)")
    record = await perform(stack, planned)
    took = (record.ended_at - record.started_at).total_seconds()
    say(f"  {record.kind} over after {took:.1f} s: {record.observed}")
    return record


async def _progress(stack: Stack, load_began: float) -> None:
    while True:
        await asyncio.sleep(PROGRESS_EVERY_S)
        try:
            produced = await asyncio.wait_for(stack.intake_records(), 10)
        except Exception:  # noqa: BLE001 - a broker down: the next line says
            produced = None
        ticketed = await stack.tickets_stored()
        state, members = await stack.group_members()
        say(
            f"{time.monotonic() - load_began:.0f} s: {produced} appeals produced, {ticketed} tickets stored;"
            f" group {state} with {len(members)}"
        )
