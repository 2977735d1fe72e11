"""Time-limit marks (预警 at risk, 超期 overdue, 督办 supervise): missed or recorded twice.

Each ticket's held events are folded in log order with the domain's fold; a clock is one
`(key, version)` of `TicketState.clocks` (`domain.time_limits.clock_changes` sets a new version whenever it
starts a clock anew or extends it). The timers fire a clock's marks at `Clock.mark_at(mark)`
(`domain.time_limits.due_index.DueIndex`: `warn_at`, `due_at`, `escalate_at`), and the ticket agent records
each as one event for `(clock, limit_version)` (`domain.time_limits.decisions._flag`).

- doubled: more than one held event of one type for the same `(ticket, clock, limit_version)`;
- missed: a mark that was owed and has no event. It is owed when
  `max(mark_at, clock started) + grace < min(clock stopped, audit end)`: the clock started and
  stopped at the Kafka timestamps of the events after which it runs, and no longer runs, at
  that version; the audit ends when the topics were read. `grace` is the bound on a stall
  (30 s by default): a mark delayed by more than that whose clock then stopped counts as
  missed, on purpose. A mark cannot fire before its clock exists, hence the `max`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bench.chaos.audit_log import TicketLog
from schemas.events import LimitAtRisk, LimitOverdue, TicketSupervised
from schemas.limits import Clock, Mark

# The event that records each mark (as `domain.time_limits.decisions` maps them).
MARK_EVENT: dict[Mark, str] = {
    Mark.AT_RISK: "limit_at_risk",
    Mark.OVERDUE: "limit_overdue",
    Mark.SUPERVISE: "ticket_supervised",
}
Recorded = tuple[str, str, int]  # (event type, clock key, limit version)


@dataclass(frozen=True)
class MarkCounts:
    missed: int
    doubled: int


@dataclass(frozen=True)
class ClockSpan:
    """One clock at one version, from the event that started it to the one that stopped it."""

    clock: Clock
    started_at: datetime
    stopped_at: datetime | None = None  # None: still running when the log was read


def clock_spans(log: TicketLog) -> list[ClockSpan]:
    """Every `(key, version)` the ticket's clocks took, with when it ran (record timestamps)."""
    spans: dict[tuple[str, int], ClockSpan] = {}
    running: set[tuple[str, int]] = set()
    for step in log.folded():
        now = {(c.key, c.version): c for c in step.after.clocks}
        for stopped in running - now.keys():
            spans[stopped] = replace(spans[stopped], stopped_at=step.logged_at)
        for started in now.keys() - spans.keys():
            spans[started] = ClockSpan(now[started], step.logged_at)
        running = set(now)
    return list(spans.values())


def recorded_marks(log: TicketLog) -> Counter[Recorded]:
    """How many held events recorded each mark of each clock version."""
    return Counter(
        (event.type, event.clock, event.limit_version)
        for event in log.events
        if isinstance(event, LimitAtRisk | LimitOverdue | TicketSupervised)
    )


def missed_marks(log: TicketLog, end_at: datetime, grace: timedelta) -> int:
    recorded = recorded_marks(log)
    missed = 0
    for span in clock_spans(log):
        ends = min(span.stopped_at or end_at, end_at)
        for mark in Mark:
            owed_from = max(span.clock.mark_at(mark), span.started_at)
            key = (MARK_EVENT[mark], span.clock.key, span.clock.version)
            if owed_from + grace < ends and key not in recorded:
                missed += 1
    return missed


def mark_counts(tickets: Mapping[str, TicketLog], end_at: datetime, grace_s: float) -> MarkCounts:
    grace = timedelta(seconds=grace_s)
    missed = sum(missed_marks(log, end_at, grace) for log in tickets.values())
    doubled = sum(1 for log in tickets.values() for n in recorded_marks(log).values() if n > 1)
    return MarkCounts(missed=missed, doubled=doubled)
