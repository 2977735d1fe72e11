"""`make bench` (timers): one worker's due-index over 1,000,000 open tickets with running limits.

In process, not through the broker: driving a million tickets through Kafka, the ticket
agent and the table's changelog takes hours on this machine, so the bench starts from
what a worker holds after its table's recovery, a table (dict) of 1,000,000 `TicketState`
JSON values, and measures the timers themselves:

- rebuild: decode every state (`agents.timers.rebuild`) into a fresh `DueIndex`, as the
  worker does when the table's recovery completes; then the first firing round, which
  sends the marks that fell due "during the outage" (time from start to timers firing);
- firing delay: the timer loop as the worker runs it (`TICK_S`, `due_now`, each due mark
  encoded as its `FlagLimit` command) while 40,000 tickets' marks fall due over a minute
  and events update other tickets' clocks meanwhile; delay = send time - due instant;
- resident memory (RSS) with the table and the index loaded.
Not measured here: Kafka's group join and the changelog read of a million states.
Writes its section into BENCHMARKS.md and bench/timers.json.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import resource
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from agents.timers import TICK_S, due_now, flag, rebuild, settle
from bench.report import REPORT, markers, write_section
from domain.intake.ids import receive_command
from domain.ticket.decide import decide
from domain.ticket.lifecycle.rules import rules_for
from domain.time_limits import DueIndex, LimitPolicy, WorkingCalendar
from infra.holidays import national_holidays
from infra.reference import load_jurisdiction
from schemas.appeal import Appeal, Caller
from schemas.limits import Clock
from schemas.triage import TriageDecision
from streams.codecs import encode
from streams.settings import DEFAULT_JURISDICTION, REPO_ROOT

RESULTS = REPO_ROOT / "bench" / "timers.json"
BEGIN, END = markers("timers")


class GcPauses:
    """The cyclic collector's full (generation 2) passes while the timer runs: their longest."""

    def __init__(self) -> None:
        self.longest_s = 0.0
        self.count = 0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.count += 1
            self.longest_s = max(self.longest_s, time.perf_counter() - self._started)


def rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def template() -> dict[str, Any]:
    """A real dispatched ticket's state (sample county limits), as JSON-ready data."""
    county = load_jurisdiction(DEFAULT_JURISDICTION)
    policy = LimitPolicy(county, WorkingCalendar.for_jurisdiction(county, national_holidays()))
    at = datetime(2026, 9, 18, 8, 0, tzinfo=UTC)
    appeal = Appeal(
        channel="phone",
        source_id="bench",
        received_at=at,
        text="白马桥街道凤凰城小区门口下水道堵塞，污水外溢。",
        address="凤凰城小区",
        caller=Caller(name="向先生", phone="18939595216"),
    )
    triage = TriageDecision.model_validate(
        {
            "appeal_type": "help",
            "category": "drainage.sewer",
            "urgency": "normal",
            "town": "baimaqiao",
            "disposition": "dispatch",
            "lead": "zjj",
            "co": ("baimaqiao",),
            "confidence": 0.9,
        }
    )
    rules = replace(rules_for(county), limits=policy)
    state = decide(None, receive_command(appeal, "T", triage, at), at, rules).state
    assert state is not None and len(state.clocks) == 2
    return state.model_dump(mode="json")


def shifted_clocks(base: list[dict[str, Any]], start: datetime, span_s: float) -> list[dict[str, Any]]:
    """The template's clocks moved so that its marks fall inside [start, start + span_s]."""
    out = []
    for n, clock in enumerate(base):
        marks = sorted(random.uniform(0, span_s) for _ in range(3))  # noqa: S311 - bench data
        at = [start + timedelta(seconds=s + n * 1e-3) for s in marks]
        out.append(
            clock
            | {
                "started_at": (start - timedelta(hours=1)).isoformat(),
                "warn_at": at[0].isoformat(),
                "due_at": at[1].isoformat(),
                "escalate_at": at[2].isoformat(),
            }
        )
    return out


def build_table(n: int, overdue: int, now: datetime) -> dict[str, bytes]:
    """`n` states: the first `overdue` with marks that passed while no worker ran, the rest
    with marks over the next working week."""
    state = template()
    base_clocks = state["clocks"]
    table: dict[str, bytes] = {}
    for i in range(n):
        ticket_id = f"20260918-{i % 6:02d}-{i:08d}"
        if i < overdue:
            clocks = shifted_clocks(base_clocks, now - timedelta(minutes=10), 300)
        else:
            clocks = shifted_clocks(base_clocks, now + timedelta(hours=1), 5 * 86400)
        table[ticket_id] = json.dumps(state | {"ticket_id": ticket_id, "clocks": clocks}).encode()
    return table


def window_clocks(
    base: list[dict[str, Any]], tickets: list[str], start: datetime, span_s: float
) -> list[tuple[str, list[Clock]]]:
    """New clocks for `tickets` (a redispatch, an extension…) whose marks fall in the window."""
    return [(t, [Clock.model_validate(c) for c in shifted_clocks(base, start, span_s)]) for t in tickets]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def fire_loop(index: DueIndex, until: float, delays: list[float], sink: list[bytes]) -> None:
    """The worker's timer: every TICK_S, send the due marks (encoded as the worker encodes them)."""
    while time.time() < until:
        now = datetime.now(UTC)
        for mark in due_now(index, now):
            sink.append(encode(flag(mark, now)))
            delays.append(time.time() - mark.at.timestamp())
        await asyncio.sleep(TICK_S)


async def event_updates(index: DueIndex, updates: list[tuple[str, list[Clock]]], until: float) -> int:
    """Events as `index_ticket_clocks` applies them: the window's tickets get their new clocks
    spread over the first seconds, while the timer fires the ones already due."""
    applied = 0
    for ticket_id, clocks in updates:
        index.update(ticket_id, 1_000_000 + applied, clocks)
        applied += 1
        if applied % 2000 == 0:
            await asyncio.sleep(0)
    await asyncio.sleep(max(0.0, until - time.time()))
    return applied


def run(n: int, firing: int, overdue: int, window_s: float) -> dict[str, float]:
    random.seed(6)
    print(f"timers: building a table of {n:,} ticket states…", flush=True)
    table = build_table(n, overdue, datetime.now(UTC))
    table_mib = sum(len(v) for v in table.values()) / 2**20
    gc.collect()
    started = time.perf_counter()
    index = DueIndex()
    rebuilt = rebuild(index, table.values())
    settle()
    rebuild_s = time.perf_counter() - started
    now = datetime.now(UTC)
    sent = [encode(flag(mark, now)) for mark in index.pop_due(now)]
    to_firing_s = time.perf_counter() - started
    print(
        f"  rebuilt {rebuilt:,} in {rebuild_s:.1f} s; {len(sent):,} overdue marks sent at {to_firing_s:.1f} s"
    )
    gc.collect()
    rss = rss_mib()
    base = json.loads(next(iter(table.values())))["clocks"]
    chosen = random.sample(list(table)[overdue:], firing)
    window_start = datetime.now(UTC) + timedelta(seconds=30)
    updates = window_clocks(base, chosen, window_start, window_s)
    until = window_start.timestamp() + window_s + 2
    delays: list[float] = []
    sink: list[bytes] = []

    pauses = GcPauses()
    gc.callbacks.append(pauses)

    async def both() -> int:
        _, applied = await asyncio.gather(
            fire_loop(index, until, delays, sink), event_updates(index, updates, until)
        )
        return applied

    print(f"  firing {firing:,} tickets' marks over {window_s:.0f} s on the {n:,}-deep index…", flush=True)
    applied = asyncio.run(both())
    gc.callbacks.remove(pauses)
    return {
        "tickets": n,
        "table_mib": table_mib,
        "rebuild_s": rebuild_s,
        "overdue_marks_at_start": len(sent),
        "start_to_firing_s": to_firing_s,
        "rss_mib": rss,
        "heap_entries": index.heap_size,
        "marks_fired": len(delays),
        "event_updates": applied,
        "p50_ms": statistics.median(delays) * 1000,
        "p99_ms": percentile(delays, 0.99) * 1000,
        "max_ms": max(delays) * 1000,
        "window_s": window_s,
        "gc_full_passes": pauses.count,
        "gc_longest_ms": pauses.longest_s * 1000,
        "load_average_1min": os.getloadavg()[0],
    }


def section(r: dict[str, Any]) -> str:
    tickets = f"{int(r['tickets']):,}"
    outage = f"{int(r['overdue_marks_at_start']):,} marks due during the outage sent"
    window = f"{r['window_s']:.0f} s, with {int(r['event_updates']):,} clock updates from events"
    delays = f"{r['p50_ms']:.0f} ms / **{r['p99_ms']:.0f} ms** / {r['max_ms']:.0f} ms"
    return f"""{BEGIN}
## Timers (one worker's due-index, {tickets} open tickets)
Measured {r["measured_at"]}, in process (`bench/timers.py`), **not through the broker**: the
worker's own rebuild, index and timer loop over a table of {tickets} `TicketState`
values (each with a sign and a complete clock), as held after the table's recovery. Kafka's
group join and the changelog read of a million states are not in these figures.

| measure | value |
|---|---|
| table of states (JSON bytes) | {r["table_mib"]:.0f} MiB |
| rebuild of the due-index from the table (with one full GC pass, then `gc.freeze`) | {r["rebuild_s"]:.1f} s |
| start → timers firing again ({outage}) | **{r["start_to_firing_s"]:.1f} s** |
| resident memory, table and index loaded | {r["rss_mib"]:.0f} MiB |
| marks fired in the window ({window}) | {int(r["marks_fired"]):,} |
| firing delay after the due instant p50 / p99 / max | {delays} |
| cyclic GC full passes in the window (longest) | {int(r["gc_full_passes"])} ({r["gc_longest_ms"]:.0f} ms) |
| machine load average (1 min) at the end, {os.cpu_count()} cores | {r["load_average_1min"]:.1f} |

The timer ticks every {TICK_S * 1000:.0f} ms, so a mark waits up to one tick; p99 must stay
under 1 s.
{END}"""


def write(results: dict[str, Any]) -> None:
    write_section(RESULTS, results, section(results), BEGIN, END)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument(
        "--firing", type=int, default=40_000, help="tickets whose marks fall due in the window"
    )
    parser.add_argument("--overdue", type=int, default=10_000, help="tickets whose marks passed while down")
    parser.add_argument("--window", type=float, default=60.0, help="seconds the firing window lasts")
    args = parser.parse_args()
    results: dict[str, Any] = run(args.tickets, args.firing, args.overdue, args.window)
    results["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    write(results)
    print(
        f"  p50 {results['p50_ms']:.0f} ms, p99 {results['p99_ms']:.0f} ms, max {results['max_ms']:.0f} ms; "
        f"RSS {results['rss_mib']:.0f} MiB; start → firing {results['start_to_firing_s']:.1f} s"
    )
    print(f"wrote the timers section of {REPORT} and {RESULTS}")


if __name__ == "__main__":
    main()
