"""The periodic report (日报、周报、旬报、月报) a leader reads, assembled from ticket events.

Pure: the logs, the period, `now`, the jurisdiction and the calendar come in; a `Report`
goes out, for any renderer (HTML, XLSX, CSV, JSON). See `domain.reporting.rates` for the rates and
their definitions, which the report repeats for its reader.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.jurisdiction import Jurisdiction
from domain.reporting.facts import TicketFacts, ticket_facts
from domain.reporting.periods import KIND_NAMES, PeriodKind, ReportPeriod, local_date
from domain.reporting.rates import DEFINITIONS, Rates, RateWeights, rates_by, rates_by_unit, rates_of
from domain.time_limits.workdays import WorkingCalendar
from schemas.events import TicketEvent
from schemas.kb import KbEntry

# The composite score (综合得分) units are ranked by: a weighted mean of the rates they have.
SCORE_WEIGHTS = (
    ("response_rate", 0.2),
    ("completion_rate", 0.2),
    ("on_time_rate", 0.3),
    ("satisfaction_rate", 0.3),
)
MIN_RANKED = 3  # a unit with fewer tickets in the period is listed but not ranked
RANKED_SHOWN = 5
HOT_SHOWN = 8
OUTSTANDING_SHOWN = 30
TREND_DAYS = {PeriodKind.DAILY: 14, PeriodKind.WEEKLY: 28, PeriodKind.TENDAY: 30, PeriodKind.MONTHLY: 62}


@dataclass(frozen=True, slots=True)
class Row:
    """One unit, town or category with its rates; `score` is the composite, None if unranked."""

    key: str
    name: str
    rates: Rates
    score: float | None = None


@dataclass(frozen=True, slots=True)
class Count:
    """Appeals received about one category, town or place, this period and the one before."""

    key: str
    name: str
    current: int
    previous: int

    @property
    def growth(self) -> int:
        return self.current - self.previous


@dataclass(frozen=True, slots=True)
class Outstanding:
    """An open problem for the dispatch meeting: supervised, overdue, or the citizen dissatisfied."""

    ticket_id: str
    received_at: datetime
    category: str
    town: str
    lead: str
    status: str
    due_at: datetime | None
    flags: tuple[str, ...]
    text: str


@dataclass(frozen=True, slots=True)
class KbUse:
    """A knowledge-base entry the hotline answered from in the period, or one out of date."""

    entry_id: str
    title: str  # "（已下架或不存在）" when the catalogue no longer holds it
    unit: str
    used: int  # answers on the line citing it
    wanting: int  # of those, the caller was dissatisfied when called back
    out_of_date: bool  # its validity ended before the period's end, or it was withdrawn
    valid_to: date | None = None


@dataclass(frozen=True, slots=True)
class Report:
    title: str
    jurisdiction: str
    period: ReportPeriod
    previous: ReportPeriod
    as_of: datetime
    weights: RateWeights
    received: int
    received_previous: int
    dispositions: dict[str, int]  # 派单 / 即办 / 转办 / 待人工派单 of those received
    totals: Rates
    totals_previous: Rates
    units: list[Row]  # ranked first by score, then the unranked by volume
    towns: list[Row]
    categories: list[Row]
    categories_received: list[Count]
    towns_received: list[Count]
    places_received: list[Count]
    trend_days: list[date]
    trend: dict[str, list[int]]  # "全部" and the top categories: appeals received per day
    outstanding: list[Outstanding]
    outstanding_total: int
    instant_rate: float | None = None  # 即办率: answered on the line, of those received
    kb_used: tuple[KbUse, ...] = ()  # most used first
    kb_out_of_date: tuple[KbUse, ...] = ()  # still offered at the desk, validity ended
    definitions: tuple[tuple[str, str], ...] = DEFINITIONS

    @property
    def ranked(self) -> list[Row]:
        return [row for row in self.units if row.score is not None]

    @property
    def best(self) -> list[Row]:
        """红榜: the top of the ranking, at most half of it (rounded up), so it never meets the worst."""
        ranked = self.ranked
        return ranked[: min(RANKED_SHOWN, (len(ranked) + 1) // 2)]

    @property
    def worst(self) -> list[Row]:
        """黑榜: the bottom of the ranking, worst first, at most half of it."""
        ranked = self.ranked
        shown = min(RANKED_SHOWN, len(ranked) // 2)
        return list(reversed(ranked[len(ranked) - shown :])) if shown else []

    @property
    def rising(self) -> list[Count]:
        """What grew most since the last period (categories and towns)."""
        grown = [c for c in (*self.categories_received, *self.towns_received) if c.growth > 0]
        return sorted(grown, key=lambda c: (-c.growth, c.key))[:HOT_SHOWN]


def score(rates: Rates) -> float | None:
    """综合得分 0-100: the weighted mean of the rates that have a denominator."""
    values = [(getattr(rates, name), weight) for name, weight in SCORE_WEIGHTS]
    known: list[tuple[float, float]] = [(v, w) for v, w in values if v is not None]
    total = sum(weight for _, weight in known)
    return 100 * sum(value * weight for value, weight in known) / total if total else None


def build_report(
    logs: Iterable[Sequence[TicketEvent]],
    period: ReportPeriod,
    now: datetime,
    jurisdiction: Jurisdiction,
    calendar: WorkingCalendar,
    weights: RateWeights | None = None,
    kb: Mapping[str, KbEntry] | None = None,
) -> Report:
    """The report of `period` as of `now` (or its end, once it is over); `kb` is the knowledge
    base's current entries, for the answers on the line it names."""
    weights = weights or RateWeights()
    previous = period.previous()
    as_of = min(now, period.end_at)
    logs = list(logs)
    facts = _facts(logs, as_of, calendar)
    before = _facts(logs, previous.end_at, calendar)
    cohort = [f for f in facts if f.dispatched_at is not None and period.contains(f.dispatched_at)]
    received = [f for f in facts if period.contains(f.received_at)]
    received_before = [f for f in before if previous.contains(f.received_at)]
    names = _Names(jurisdiction)
    trend_days, trend = _trend(facts, period, jurisdiction.timezone, names)
    outstanding = _outstanding(facts, names)
    dispositions = _dispositions(received)
    kb_used, kb_out_of_date = _kb_use(facts, period, kb or {}, names)
    return Report(
        title=f"{jurisdiction.jurisdiction.name}12345热线{KIND_NAMES[period.kind]}",
        jurisdiction=jurisdiction.jurisdiction.name,
        period=period,
        previous=previous,
        as_of=as_of,
        weights=weights,
        received=len(received),
        received_previous=len(received_before),
        dispositions=dispositions,
        totals=rates_of(cohort, weights),
        totals_previous=rates_of(
            [f for f in before if f.dispatched_at is not None and previous.contains(f.dispatched_at)], weights
        ),
        units=_ranked(rates_by_unit(cohort, weights), names.unit),
        towns=_rows(rates_by(cohort, lambda f: f.town, weights), names.town),
        categories=_rows(rates_by(cohort, lambda f: f.category, weights), names.category),
        categories_received=_counts(received, received_before, lambda f: f.category, names.category),
        towns_received=_counts(received, received_before, lambda f: f.town, names.town),
        places_received=_counts(received, received_before, lambda f: f.place or None, str),
        trend_days=trend_days,
        trend=trend,
        outstanding=outstanding[:OUTSTANDING_SHOWN],
        outstanding_total=len(outstanding),
        instant_rate=dispositions["即办"] / len(received) if received else None,
        kb_used=kb_used,
        kb_out_of_date=kb_out_of_date,
    )


class _Names:
    def __init__(self, jurisdiction: Jurisdiction) -> None:
        self._jurisdiction = jurisdiction
        self._categories = {c.code: c.name for c in jurisdiction.categories}

    def unit(self, code: str) -> str:
        return self._jurisdiction.unit_name(code)

    def town(self, code: str) -> str:
        town = self._jurisdiction.town_by_code.get(code)
        return town.name if town else code

    def category(self, code: str) -> str:
        return self._categories.get(code, code)


def _facts(
    logs: list[Sequence[TicketEvent]], as_of: datetime, calendar: WorkingCalendar
) -> list[TicketFacts]:
    found = (ticket_facts(log, as_of, calendar) for log in logs)
    # In ticket order, whatever order the logs came in: sums and ties come out the same.
    return sorted((f for f in found if f is not None), key=lambda f: f.ticket_id)


def _dispositions(received: list[TicketFacts]) -> dict[str, int]:
    # How each appeal was first disposed of: one answered on the line and dispatched after an
    # unsatisfied callback counts as 即办, the way it was handled when it came in.
    counted = Counter(
        "即办"
        if f.answered_at
        else "派单"
        if f.dispatched_at
        else {"transferred": "转办"}.get(f.status, "待人工派单")
        for f in received
    )
    return {name: counted[name] for name in ("派单", "即办", "转办", "待人工派单")}


def _kb_use(
    facts: list[TicketFacts], period: ReportPeriod, kb: Mapping[str, KbEntry], names: _Names
) -> tuple[tuple[KbUse, ...], tuple[KbUse, ...]]:
    answered = [f for f in facts if f.answered_at and f.kb_entry and period.contains(f.answered_at)]
    used = Counter(f.kb_entry for f in answered)
    wanting = Counter(f.kb_entry for f in answered if f.answer_wanting)
    last_day = period.last

    def use(entry_id: str) -> KbUse:
        entry = kb.get(entry_id)
        if entry is None:
            return KbUse(entry_id, "（已下架或不存在）", "—", used[entry_id], wanting[entry_id], True)
        ended = entry.valid_to is not None and entry.valid_to < last_day
        return KbUse(
            entry_id,
            entry.title,
            names.unit(entry.unit),
            used[entry_id],
            wanting[entry_id],
            ended,
            entry.valid_to,
        )

    in_use = tuple(sorted((use(e) for e in used if e), key=lambda u: (-u.used, -u.wanting, u.entry_id)))
    ended = tuple(
        use(entry_id)
        for entry_id, entry in sorted(kb.items())
        if entry.valid_to is not None and entry.valid_to < last_day
    )
    return in_use, ended


def _rows(by_key: dict[str, Rates], name: Callable[[str], str]) -> list[Row]:
    rows = [Row(key, name(key), rates) for key, rates in by_key.items()]
    return sorted(rows, key=lambda r: (-r.rates.dispatched, r.key))


def _ranked(by_unit: dict[str, Rates], name: Callable[[str], str]) -> list[Row]:
    rows = [
        Row(r.key, r.name, r.rates, score(r.rates) if r.rates.dispatched >= MIN_RANKED else None)
        for r in _rows(by_unit, name)
    ]
    ranked = sorted((r for r in rows if r.score is not None), key=lambda r: (-(r.score or 0), r.key))
    return ranked + [r for r in rows if r.score is None]


def _counts(
    current: list[TicketFacts],
    previous: list[TicketFacts],
    key: Callable[[TicketFacts], str | None],
    name: Callable[[str], str],
) -> list[Count]:
    now = Counter(k for f in current if (k := key(f)) is not None)
    then = Counter(k for f in previous if (k := key(f)) is not None)
    counts = [Count(k, name(k), now[k], then[k]) for k in set(now) | set(then)]
    return sorted(counts, key=lambda c: (-c.current, -c.growth, c.key))


def _trend(
    facts: list[TicketFacts], period: ReportPeriod, timezone: str, names: _Names
) -> tuple[list[date], dict[str, list[int]]]:
    days = max(TREND_DAYS[period.kind], len(period.days))
    first = period.last - timedelta(days=days - 1)
    trend_days = [first + timedelta(days=n) for n in range(days)]
    index = {day: n for n, day in enumerate(trend_days)}
    in_window = [(index[d], f) for f in facts if (d := local_date(f.received_at, timezone)) in index]
    counted = Counter(f.category for _, f in in_window)
    top = sorted(counted, key=lambda c: (-counted[c], c))[:5]
    trend = {"全部": [0] * days} | {names.category(c): [0] * days for c in top}
    for n, fact in in_window:
        trend["全部"][n] += 1
        if fact.category in top:
            trend[names.category(fact.category)][n] += 1
    return trend_days, trend


def _outstanding(facts: list[TicketFacts], names: _Names) -> list[Outstanding]:
    found = []
    for fact in facts:
        flags = tuple(
            flag
            for flag, on in (
                ("督办", fact.supervised),
                ("超期", fact.overdue),
                ("不满意", fact.status == "dissatisfied"),
                (f"重办{fact.reworks}次", fact.reworks > 0),
            )
            if on
        )
        if fact.is_open and flags:
            found.append(
                Outstanding(
                    ticket_id=fact.ticket_id,
                    received_at=fact.received_at,
                    category=names.category(fact.category),
                    town=names.town(fact.town) if fact.town else "—",
                    lead=names.unit(fact.lead) if fact.lead else "—",
                    status=fact.status,
                    due_at=fact.due_at,
                    flags=flags,
                    text=fact.text[:120],
                )
            )
    found.sort(key=lambda o: ("督办" not in o.flags, -len(o.flags), o.received_at, o.ticket_id))
    return found
