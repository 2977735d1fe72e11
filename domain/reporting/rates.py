"""The hotline's rates (考核指标), defined once and computed from ticket events.

A period's *cohort* is the tickets first dispatched within it; each is measured with
its events up to the report's `as_of` (the period's end, or now while it runs), so a
past period's report never changes. Per unit a ticket counts against its lead (the
last one named); a return counts against the unit that returned it.

The same functions run on events read from `tickets.events` and on rows read from
PostgreSQL: that is how `shaobao verify` and the tests check the reports.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from domain.reporting.facts import TicketFacts

DEFINITIONS: tuple[tuple[str, str], ...] = (
    ("派单量", "本期首次派单的工单数（本期工单）；按单位统计时计入其牵头单位。"),
    ("响应率", "牵头单位在签收时限内签收的工单数 ÷ 派单量。改派给其他单位的，以新单位的签收计。"),
    ("办结率", "已办结（承办单位至少答复办结一次）的工单数 ÷ 派单量。"),
    ("按期办结率", "首次办结在办理时限内（已批准的延期计入时限）的工单数 ÷ 已办结工单数。"),
    (
        "解决率",
        "回访认为问题已解决的市民数 ÷ 回访联系上的市民数；未单独询问是否解决的，满意或基本满意视为已解决。",
    ),
    (
        "满意率",
        "（满意 + 基本满意 × 权重）÷（回访联系上的市民数 − 不作评价）；"
        "基本满意的权重可配置，本报告所用权重见表头。",
    ),
    ("重办次数", "本期工单被发回重办的次数。"),
    ("退单次数", "本期工单被承办单位退回的次数，计入退单的单位。"),
    ("超期数", "办理时限（含延期、重办时限）已过而未办结，或办结晚于时限的工单数。"),
    (
        "平均办理时长",
        "从首次派单到首次办结的工作时长（工作日历：节假日、周末不计，调休上班日计入）的平均值，单位：工作小时。",
    ),
    (
        "统计口径",
        "各指标均以报告截止时刻前的工单事件计算；回访以最后一轮（重办后重新回访）每位市民的最终结果计。",
    ),
)


@dataclass(frozen=True, slots=True)
class RateWeights:
    basically_satisfied: float = 1.0  # the share of 基本满意 counted as satisfied


@dataclass(frozen=True, slots=True)
class Rates:
    """Counts of one group of tickets and the rates made of them (None: nothing to divide by)."""

    dispatched: int = 0
    signed_in_time: int = 0
    completed: int = 0
    completed_on_time: int = 0
    reached: int = 0
    solved: int = 0
    satisfied: int = 0
    basically_satisfied: int = 0
    no_comment: int = 0
    dissatisfied: int = 0
    unreachable: int = 0
    reworks: int = 0
    returns: int = 0
    overdue: int = 0
    handling_hours: float = 0.0  # the sum over completed tickets
    weights: RateWeights = field(default_factory=RateWeights)

    @property
    def response_rate(self) -> float | None:
        return _ratio(self.signed_in_time, self.dispatched)

    @property
    def completion_rate(self) -> float | None:
        return _ratio(self.completed, self.dispatched)

    @property
    def on_time_rate(self) -> float | None:
        return _ratio(self.completed_on_time, self.completed)

    @property
    def solved_rate(self) -> float | None:
        return _ratio(self.solved, self.reached)

    @property
    def satisfaction_rate(self) -> float | None:
        weighted = self.satisfied + self.basically_satisfied * self.weights.basically_satisfied
        return _ratio(weighted, self.reached - self.no_comment)

    @property
    def average_handling_hours(self) -> float | None:
        return _ratio(self.handling_hours, self.completed)


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole > 0 else None


def rates_of(facts: Iterable[TicketFacts], weights: RateWeights | None = None) -> Rates:
    """The rates of a group of cohort tickets (returns counted against this group's tickets)."""
    counts: dict[str, float] = defaultdict(float)
    for fact in facts:
        _add(counts, fact)
        counts["returns"] += len(fact.returned_by)
    return _rates(counts, weights)


def rates_by(
    facts: Iterable[TicketFacts], key: Callable[[TicketFacts], str | None], weights: RateWeights | None = None
) -> dict[str, Rates]:
    """The rates per group; tickets whose key is None are left out."""
    groups: dict[str, list[TicketFacts]] = defaultdict(list)
    for fact in facts:
        name = key(fact)
        if name is not None:
            groups[name].append(fact)
    return {name: rates_of(group, weights) for name, group in sorted(groups.items())}


def rates_by_unit(facts: Iterable[TicketFacts], weights: RateWeights | None = None) -> dict[str, Rates]:
    """Per unit: each ticket against its lead, each return against the unit that returned it."""
    counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for fact in facts:
        if fact.lead is not None:
            _add(counts[fact.lead], fact)
        for unit in fact.returned_by:
            counts[unit]["returns"] += 1
    return {unit: _rates(unit_counts, weights) for unit, unit_counts in sorted(counts.items())}


def _add(counts: dict[str, float], fact: TicketFacts) -> None:
    counts["dispatched"] += 1
    counts["signed_in_time"] += fact.signed_in_time
    counts["reworks"] += fact.reworks
    counts["overdue"] += fact.overdue
    if fact.completed_at is not None:
        counts["completed"] += 1
        counts["completed_on_time"] += fact.completed_on_time
        counts["handling_hours"] += (fact.handling_s or 0.0) / 3600
    for callback in fact.callbacks:
        counts[callback.outcome] += 1
        if callback.outcome == "unreachable":
            continue
        counts["reached"] += 1
        solved = callback.solved
        if solved is None:
            solved = callback.outcome in ("satisfied", "basically_satisfied")
        counts["solved"] += solved


_INT_FIELDS = (
    "dispatched",
    "signed_in_time",
    "completed",
    "completed_on_time",
    "reached",
    "solved",
    "satisfied",
    "basically_satisfied",
    "no_comment",
    "dissatisfied",
    "unreachable",
    "reworks",
    "returns",
    "overdue",
)


def _rates(counts: dict[str, float], weights: RateWeights | None) -> Rates:
    ints = {name: int(counts.get(name, 0)) for name in _INT_FIELDS}
    return Rates(**ints, handling_hours=counts.get("handling_hours", 0.0), weights=weights or RateWeights())
