"""Grading triage against labels: the counts `shaobao triage eval` and `cross` print.

Besides the fields, it measures what the targets are stated in: lead on automatic
dispatches, emergencies missed, urgent recall, report recall and reporters
protected (a report, or a caller withheld because it may be one), two-problem
appeals flagged for a split, and every figure again per kind of messy input
(the labelled line's `kinds`: transcript, dialect, traditional, wechat, ...).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO

from domain.triage import URGENCY_RANK
from schemas.triage import TriageDecision

APPEAL_TYPES = ("consult", "help", "complaint", "report", "suggestion", "praise")
URGENCIES = ("normal", "urgent", "emergency")
FIELDS = ("appeal_type", "category", "urgency", "town", "disposition", "lead", "co")
CLEAN = "clean"  # the kind of a line whose `kinds` is empty


@dataclass
class Evaluation:
    """Counts gathered over a labelled file."""

    total: int = 0
    correct: Counter[str] = field(default_factory=Counter)
    expected_dispatch: int = 0
    auto_dispatched: int = 0
    dispatched: int = 0
    dispatched_lead_ok: int = 0
    dispatched_route_ok: int = 0
    resolvable_towns: int = 0
    towns_ok: int = 0
    unresolvable: int = 0
    unresolvable_kept_unknown: int = 0
    expected_manual: int = 0
    manual_kept: int = 0
    manual: int = 0
    emergencies: int = 0
    emergencies_missed: list[str] = field(default_factory=list)
    expected_urgent: int = 0
    urgent_raised: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    # (labelled, decided) pairs of appeal type and of urgency, for their confusion tables.
    type_confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    urgency_confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    durations_s: list[float] = field(default_factory=list)
    reports_protected: int = 0
    others_withheld: int = 0
    # Two problems in one appeal: labelled, flagged at all, flagged with the labelled one;
    # and single-problem appeals flagged anyway.
    two_problems: int = 0
    two_flagged: int = 0
    two_flagged_right: int = 0
    one_flagged: int = 0
    by_kind: dict[str, Evaluation] = field(default_factory=dict)

    def add_kinds(
        self, kinds: Sequence[str], row_id: str, expect: dict[str, object], got: TriageDecision
    ) -> None:
        """Score one decision overall and under each of its kinds (`clean` when it has none)."""
        self.add(row_id, expect, got)
        for kind in kinds or (CLEAN,):
            self.by_kind.setdefault(kind, Evaluation()).add(row_id, expect, got)

    def add(self, row_id: str, expect: dict[str, object], got: TriageDecision) -> None:
        """Score one decision against its labels."""
        self.total += 1
        actual: dict[str, object] = {name: getattr(got, name) for name in FIELDS}
        actual["co"] = sorted(got.co)
        # An empty label ("lead": "") means none, as null does.
        wanted: dict[str, object] = {name: expect.get(name) or None for name in FIELDS}
        co = expect.get("co")
        wanted["co"] = sorted(str(unit) for unit in co) if isinstance(co, list) else []
        wrong = [name for name in FIELDS if actual[name] != wanted[name]]
        self.correct.update(name for name in FIELDS if name not in wrong)
        self.confusion[(str(wanted["category"]), got.category)] += 1
        self.type_confusion[(str(wanted["appeal_type"]), got.appeal_type)] += 1
        self.urgency_confusion[(str(wanted["urgency"]), got.urgency)] += 1
        self._dispatch(wanted, got)
        self._towns(wanted, got)
        self._emergency(row_id, wanted, got)
        self._privacy(wanted, got)
        self._second(expect.get("second_category"), got)
        if wrong:
            diffs = ", ".join(f"{n}: {wanted[n]} → {actual[n]}" for n in wrong)
            self.errors.append(f"{row_id}: {diffs}")

    def _dispatch(self, wanted: dict[str, object], got: TriageDecision) -> None:
        if wanted["disposition"] == "dispatch":
            self.expected_dispatch += 1
            self.auto_dispatched += got.disposition == "dispatch"
        self.manual += got.disposition == "manual"
        if got.disposition == "dispatch":
            self.dispatched += 1
            self.dispatched_lead_ok += got.lead == wanted["lead"]
            self.dispatched_route_ok += got.lead == wanted["lead"] and sorted(got.co) == wanted["co"]
        if wanted["disposition"] == "manual":
            self.expected_manual += 1
            self.manual_kept += got.disposition == "manual"

    def _towns(self, wanted: dict[str, object], got: TriageDecision) -> None:
        if wanted["town"] is None:
            self.unresolvable += 1
            self.unresolvable_kept_unknown += got.town is None
        else:
            self.resolvable_towns += 1
            self.towns_ok += got.town == wanted["town"]

    def _emergency(self, row_id: str, wanted: dict[str, object], got: TriageDecision) -> None:
        raised = URGENCY_RANK[got.urgency] >= URGENCY_RANK["urgent"]
        if wanted["urgency"] == "urgent":
            self.expected_urgent += 1
            self.urgent_raised += raised
        if wanted["urgency"] != "emergency":
            return
        self.emergencies += 1
        # Caught (the measure): transferred, or raised to urgent at least, whether
        # dispatched (a gas leak to the gas company) or handed to a person. An on-line
        # answer, or any normal-urgency ticket, is a miss.
        caught = got.disposition == "transfer" or (got.disposition != "instant" and raised)
        if not caught:
            self.emergencies_missed.append(row_id)

    def _privacy(self, wanted: dict[str, object], got: TriageDecision) -> None:
        if wanted["appeal_type"] == "report":
            self.reports_protected += got.reporter_protected
        else:
            self.others_withheld += got.reporter_protected

    def _second(self, labelled: object, got: TriageDecision) -> None:
        if isinstance(labelled, str) and labelled:
            self.two_problems += 1
            self.two_flagged += got.second_category is not None
            self.two_flagged_right += got.second_category == labelled
        else:
            self.one_flagged += got.second_category is not None

    @property
    def reports(self) -> int:
        return sum(n for (wanted, _), n in self.type_confusion.items() if wanted == "report")

    def merge(self, other: Evaluation) -> None:
        """Add another file's counts to these (for the pooled figures of a cross evaluation)."""
        for name, value in vars(other).items():
            mine = getattr(self, name)
            if isinstance(mine, Counter):
                mine.update(value)
            elif isinstance(mine, dict):
                for kind, counts in value.items():
                    mine.setdefault(kind, Evaluation()).merge(counts)
            elif isinstance(mine, list):
                mine.extend(value)
            else:
                setattr(self, name, mine + value)


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}% ({part}/{whole})" if whole else "  n/a"


def report(ev: Evaluation, out: TextIO, show_errors: bool) -> None:
    out.write(f"appeals: {ev.total}\n")
    for name in FIELDS:
        out.write(f"  {name:<12} {_pct(ev.correct[name], ev.total)}\n")
    missed = ", ".join(ev.emergencies_missed) or "none"
    caught = ev.emergencies - len(ev.emergencies_missed)
    rows = [
        ("auto-dispatch rate (dispatched / should dispatch)", _pct(ev.auto_dispatched, ev.expected_dispatch)),
        ("lead correct on auto-dispatched", _pct(ev.dispatched_lead_ok, ev.dispatched)),
        ("lead+co correct on auto-dispatched", _pct(ev.dispatched_route_ok, ev.dispatched)),
        ("town correct where resolvable", _pct(ev.towns_ok, ev.resolvable_towns)),
        ("town left unknown where unresolvable", _pct(ev.unresolvable_kept_unknown, ev.unresolvable)),
        ("manual kept manual (e.g. ambiguous-only places)", _pct(ev.manual_kept, ev.expected_manual)),
        ("manual rate (sent to a person / all)", _pct(ev.manual, ev.total)),
        ("emergency recall (transferred or urgent+)", _pct(caught, ev.emergencies)),
        ("emergencies missed", f"{len(ev.emergencies_missed)} of {ev.emergencies} ({missed})"),
        ("urgent appeals raised to urgent or above", _pct(ev.urgent_raised, ev.expected_urgent)),
        (
            "urgent+emergency raised or transferred",
            _pct(ev.urgent_raised + caught, ev.expected_urgent + ev.emergencies),
        ),
        ("reports recognised as reports (report recall)", _report_recall(ev)),
        ("reports whose reporter is protected", _pct(ev.reports_protected, ev.reports)),
        ("other appeals whose caller is withheld", _pct(ev.others_withheld, ev.total - ev.reports)),
        ("two-problem appeals flagged (the labelled second)", _pct(ev.two_flagged_right, ev.two_problems)),
        ("two-problem appeals flagged (any second)", _pct(ev.two_flagged, ev.two_problems)),
        ("one-problem appeals flagged as two", _pct(ev.one_flagged, ev.total - ev.two_problems)),
    ]
    durations = sorted(ev.durations_s)
    if durations:
        mean_ms = 1000 * sum(durations) / len(durations)
        p99_ms = _p99_ms(durations)
        rows.append(
            ("decide()", f"mean {mean_ms:.3f} ms, p99 {p99_ms:.3f} ms, max {1000 * durations[-1]:.3f} ms")
        )
    out.writelines(f"{label + ':':<50} {value}\n" for label, value in rows)
    _confusion(ev, out)
    _table("appeal type", APPEAL_TYPES, ev.type_confusion, out)
    _table("urgency", URGENCIES, ev.urgency_confusion, out)
    if ev.by_kind:
        _kinds(ev.by_kind, out)
    if show_errors:
        out.write("errors:\n" + "".join(f"  {line}\n" for line in ev.errors))


def _confusion(ev: Evaluation, out: TextIO, worst: int = 8) -> None:
    per_category: Counter[str] = Counter()
    for (wanted, _), count in ev.confusion.items():
        per_category[wanted] += count
    recall = {c: ev.confusion[(c, c)] / n for c, n in per_category.items()}
    out.write("worst categories (recall; what they were taken for):\n")
    for category in sorted(recall, key=lambda c: (recall[c], c))[:worst]:
        taken = [(got, n) for (want, got), n in ev.confusion.items() if want == category and got != category]
        shown = ", ".join(f"{got}×{n}" for got, n in sorted(taken, key=lambda item: -item[1]))
        hits = _pct(ev.confusion[(category, category)], per_category[category])
        out.write(f"  {category:<24} {hits}  {shown}\n")


def _report_recall(ev: Evaluation) -> str:
    return _pct(ev.type_confusion[("report", "report")], ev.reports)


def _kinds(by_kind: dict[str, Evaluation], out: TextIO) -> None:
    """The target figures again for each kind of input (a line may be of several kinds)."""
    out.write("by kind of input (a line may count under several):\n")
    out.write(f"  {'kind':<18} {'n':>4} {'type':>6} {'categ':>6} {'report':>7} {'protect':>7} {'urgent+':>7}")
    out.write(f" {'auto':>6} {'lead/au':>7} {'town':>6} {'missed':>7}\n")
    for kind in sorted(by_kind, key=lambda k: (k != CLEAN, k)):
        ev = by_kind[kind]
        caught = ev.emergencies - len(ev.emergencies_missed)
        cells = (
            _share(ev.correct["appeal_type"], ev.total),
            _share(ev.correct["category"], ev.total),
            _share(ev.type_confusion[("report", "report")], ev.reports),
            _share(ev.reports_protected, ev.reports),
            _share(ev.urgent_raised + caught, ev.expected_urgent + ev.emergencies),
            _share(ev.auto_dispatched, ev.expected_dispatch),
            _share(ev.dispatched_lead_ok, ev.dispatched),
            _share(ev.towns_ok, ev.resolvable_towns),
        )
        widths = (6, 6, 7, 7, 7, 6, 7, 6)
        out.write(
            f"  {kind:<18} {ev.total:>4}" + "".join(f" {c:>{w}}" for c, w in zip(cells, widths, strict=True))
        )
        missed = f"{len(ev.emergencies_missed)}/{ev.emergencies}"
        out.write(f" {missed:>7}\n")


def _table(title: str, labels: Sequence[str], confusion: Counter[tuple[str, str]], out: TextIO) -> None:
    """A confusion table (rows: labelled, columns: decided) with each label's recall."""
    seen = {label for pair in confusion for label in pair}
    labels = [*labels, *sorted(seen - set(labels))]
    width = max(len(label) for label in labels) + 1
    out.write(f"{title} (rows labelled, columns decided):\n")
    out.write(f"  {'':<{width}}" + "".join(f"{label[:10]:>11}" for label in labels) + "      recall\n")
    for wanted in labels:
        row = [confusion[(wanted, got)] for got in labels]
        if not sum(row):
            continue
        cells = "".join(f"{count:>11}" for count in row)
        out.write(f"  {wanted:<{width}}{cells}  {_pct(confusion[(wanted, wanted)], sum(row))}\n")


def summary(rows: Sequence[tuple[str, Evaluation]], pooled: Evaluation, out: TextIO) -> None:
    """One line per held-out file: the figures the triage targets are stated in."""
    out.write(f"{'held out':<28} {'n':>4} {'category':>8} {'type':>6} {'auto':>6} {'lead/auto':>9}")
    out.write(f" {'town':>6} {'missed':>7} {'p99 ms':>7}\n")
    for name, ev in [*rows, ("pooled", pooled)]:
        p99_ms = _p99_ms(sorted(ev.durations_s) or [0.0])
        cells = (
            _share(ev.correct["category"], ev.total),
            _share(ev.correct["appeal_type"], ev.total),
            _share(ev.auto_dispatched, ev.expected_dispatch),
        )
        out.write(f"{name:<28} {ev.total:>4} {cells[0]:>8} {cells[1]:>6} {cells[2]:>6}")
        lead, town = _share(ev.dispatched_lead_ok, ev.dispatched), _share(ev.towns_ok, ev.resolvable_towns)
        missed = f"{len(ev.emergencies_missed)}/{ev.emergencies}"
        out.write(f" {lead:>9} {town:>6} {missed:>7} {p99_ms:>7.2f}\n")


def _p99_ms(ordered_s: Sequence[float]) -> float:
    return 1000 * ordered_s[min(len(ordered_s) - 1, int(0.99 * len(ordered_s)))]


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}" if whole else "n/a"
