"""`shaobao triage`: run the triage brain over a JSONL file of appeals, or measure it.

    shaobao triage FILE.jsonl           one JSON decision per input line (with the input `id`)
    shaobao triage --eval FILE.jsonl    accuracy against each line's `expect` labels
    shaobao triage eval FILE.jsonl      the same
    shaobao triage --check-labels FILE.jsonl   labels that disagree with the routing table
    shaobao triage cross [FILE.jsonl ...]      leave-one-file-out: each file graded by a model
                                               trained on the others (default: the shipped files)

Input lines are in the labelled-corpus format (channel, received_at, text,
address, caller, optional location, optional expect); `id` becomes source_id.
The learned model trains on the shipped labelled appeals (`--examples`, or
`--no-model` for the lexicon alone); lines of the evaluated file are always
left out of its training, so `--eval` never grades it on what it learned.
This is the shell: it reads files and the clock, the domain does neither.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import yaml
from pydantic import ValidationError

from domain.jurisdiction import Jurisdiction
from domain.triage import Triager
from domain.triage.labels import label_problems
from domain.triage.learned import LabelledText
from domain.triage.urgency import URGENCY_RANK
from infra.examples import DEFAULT_EXAMPLE_FILES, read_examples
from infra.reference import build_reference, lexicon_path_for, load_jurisdiction, read_reference
from schemas.appeal import Appeal
from schemas.triage import TriageDecision

_DATA = Path(__file__).resolve().parent.parent / "data" / "jurisdiction"
DEFAULT_JURISDICTION = _DATA / "sample-county.yaml"
APPEAL_TYPES = ("consult", "help", "complaint", "report", "suggestion", "praise")
URGENCIES = ("normal", "urgent", "emergency")
FIELDS = ("appeal_type", "category", "urgency", "town", "disposition", "lead", "co")


def build_triager(
    jurisdiction_path: Path, lexicon_path: Path, examples: Sequence[LabelledText] = ()
) -> Triager:
    """Load both reference files and build the triager exactly as a worker does (same version digest)."""
    published = read_reference(jurisdiction_path, lexicon_path, datetime.now(UTC))
    return build_reference(published, examples).router


def appeal_from_line(row: dict[str, object]) -> Appeal:
    """A corpus line as an `Appeal`: `id` is the source_id, a null address is empty."""
    return Appeal.model_validate(
        {
            "channel": row.get("channel"),
            "source_id": row.get("id"),
            "received_at": row.get("received_at"),
            "text": row.get("text"),
            "address": row.get("address") or "",
            "caller": row.get("caller") or {},
            "location": row.get("location"),
        }
    )


def _read_rows(path: Path) -> Iterator[tuple[int, dict[str, object]]]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                yield number, json.loads(line)


def _triage(triager: Triager, path: Path, out: TextIO) -> int:
    failures = 0
    for number, row in _read_rows(path):
        try:
            decision = triager.decide(appeal_from_line(row))
        except ValidationError as error:
            # A malformed line is reported and skipped; the rest of the file still runs.
            failures += 1
            print(f"{path}:{number}: invalid appeal: {error.errors()[0]['msg']}", file=sys.stderr)
            continue
        out.write(json.dumps({"id": row.get("id"), **decision.model_dump(mode="json")}, ensure_ascii=False))
        out.write("\n")
    return 1 if failures else 0


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

    def merge(self, other: Evaluation) -> None:
        """Add another file's counts to these (for the pooled figures of a cross evaluation)."""
        for name, value in vars(other).items():
            mine = getattr(self, name)
            if isinstance(mine, Counter):
                mine.update(value)
            elif isinstance(mine, list):
                mine.extend(value)
            else:
                setattr(self, name, mine + value)


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}% ({part}/{whole})" if whole else "  n/a"


def _report(ev: Evaluation, out: TextIO, show_errors: bool) -> None:
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
    reports = sum(n for (wanted, _), n in ev.type_confusion.items() if wanted == "report")
    return _pct(ev.type_confusion[("report", "report")], reports)


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


def _evaluate(triager: Triager, path: Path, out: TextIO, show_errors: bool) -> int:
    _report(_score(triager, path), out, show_errors)
    return 0


def _score(triager: Triager, path: Path) -> Evaluation:
    ev = Evaluation()
    for number, row in _read_rows(path):
        expect = row.get("expect")
        if not isinstance(expect, dict):
            print(f"{path}:{number}: no expect labels, skipped", file=sys.stderr)
            continue
        appeal = appeal_from_line(row)
        started = time.perf_counter()
        decision = triager.decide(appeal)
        ev.durations_s.append(time.perf_counter() - started)
        ev.add(str(row.get("id")), expect, decision)
    return ev


def _check_labels(jurisdiction: Jurisdiction, path: Path, out: TextIO) -> int:
    """Every line whose `expect` breaks the routing table or the disposition rules; 1 if any."""
    bad = checked = 0
    for number, row in _read_rows(path):
        expect = row.get("expect")
        problems = label_problems(expect, jurisdiction) if isinstance(expect, dict) else ["no expect labels"]
        checked += 1
        if problems:
            bad += 1
            out.write(f"{path}:{number} {row.get('id')}: {'; '.join(problems)}\n")
    out.write(f"{checked} labelled lines, {bad} with problems\n")
    return 1 if bad else 0


def _cross(files: Sequence[Path], jurisdiction: Path, lexicon: Path, out: TextIO, show_errors: bool) -> int:
    """Leave one file out: each file graded by a triager whose model learned from the others only.

    Each labelled file has its own author, so a file the model never saw stands in
    for wording it will meet in service. Pooled figures add every file's counts.
    """
    pooled = Evaluation()
    rows: list[tuple[str, Evaluation]] = []
    for held_out in files:
        examples = _examples([f for f in files if f != held_out], held_out)
        started = time.perf_counter()
        triager = build_triager(jurisdiction, lexicon, examples)
        built_s = time.perf_counter() - started
        gate = triager.gate
        out.write(f"== held out: {held_out.name} (model from {len(examples)} appeals,")
        out.write(f" built in {built_s:.1f} s; gate {gate.threshold:.2f}: {100 * gate.precision:.1f}% right")
        out.write(
            f" on {gate.measured_on} held-out dispatchable appeals, {100 * gate.coverage:.1f}% cleared it)\n"
        )
        ev = _score(triager, held_out)
        _report(ev, out, show_errors)
        pooled.merge(ev)
        rows.append((held_out.name, ev))
    out.write("== pooled over the held-out files\n")
    _report(pooled, out, show_errors=False)
    _summary(rows, pooled, out)
    return 0


def _summary(rows: Sequence[tuple[str, Evaluation]], pooled: Evaluation, out: TextIO) -> None:
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


def _examples(paths: Sequence[Path], evaluated: Path) -> list[LabelledText]:
    """The training examples, without any line of the file about to be triaged or scored."""
    seen = {str(row.get("text")) for _, row in _read_rows(evaluated)} if evaluated.is_file() else set()
    return read_examples(paths, leave_out=seen)


def _reference_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jurisdiction", type=Path, default=DEFAULT_JURISDICTION)
    parser.add_argument("--lexicon", type=Path, default=None, help="default: <jurisdiction>.lexicon.yaml")


def _cannot_load(prog: str, error: Exception) -> int:
    # A missing or invalid reference file is the operator's to fix: say which, not a traceback.
    print(f"{prog}: cannot load reference data: {error}", file=sys.stderr)
    return 2


def run(argv: Sequence[str], out: TextIO | None = None) -> int:
    """Entry point for `shaobao triage ...`; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="shaobao triage", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="appeals, one JSON object per line (corpus format)")
    parser.add_argument("--eval", action="store_true", help="measure against each line's expect labels")
    parser.add_argument("--errors", action="store_true", help="with --eval: list every wrong field")
    _reference_arguments(parser)
    parser.add_argument(
        "--examples",
        type=Path,
        action="append",
        help="labelled appeals to train the model on (repeatable; default: the shipped ones)",
    )
    parser.add_argument("--no-model", action="store_true", help="decide with the lexicon alone")
    parser.add_argument(
        "--check-labels", action="store_true", help="list labels that break the jurisdiction's rules (exit 1)"
    )
    argv = list(argv)
    if argv[:1] == ["cross"]:
        return _run_cross(argv[1:], out or sys.stdout)
    if argv[:1] == ["eval"]:
        # `shaobao triage eval FILE` reads better in a runbook than `--eval`; both work.
        argv = ["--eval", *argv[1:]]
    args = parser.parse_args(argv)
    stream = out or sys.stdout
    if args.check_labels:  # the routing table alone: no model to train
        try:
            jurisdiction = load_jurisdiction(args.jurisdiction)
        except (OSError, yaml.YAMLError, ValueError) as error:
            return _cannot_load("shaobao triage", error)
        return _check_labels(jurisdiction, args.file, stream)
    try:
        examples = [] if args.no_model else _examples(args.examples or DEFAULT_EXAMPLE_FILES, args.file)
        lexicon = args.lexicon or lexicon_path_for(args.jurisdiction)
        triager = build_triager(args.jurisdiction, lexicon, examples)
    except (OSError, yaml.YAMLError, ValueError) as error:
        return _cannot_load("shaobao triage", error)
    if args.eval:
        return _evaluate(triager, args.file, stream, args.errors)
    return _triage(triager, args.file, stream)


def _run_cross(argv: Sequence[str], out: TextIO) -> int:
    parser = argparse.ArgumentParser(prog="shaobao triage cross", description=_cross.__doc__)
    parser.add_argument("files", type=Path, nargs="*", help="labelled files (default: the shipped ones)")
    parser.add_argument("--errors", action="store_true", help="list every wrong field per held-out file")
    _reference_arguments(parser)
    args = parser.parse_args(argv)
    files = args.files or [path for path in DEFAULT_EXAMPLE_FILES if path.is_file()]
    if len(files) < 2:
        print("shaobao triage cross: needs at least two labelled files", file=sys.stderr)
        return 2
    lexicon = args.lexicon or lexicon_path_for(args.jurisdiction)
    try:
        return _cross(files, args.jurisdiction, lexicon, out, args.errors)
    except (OSError, yaml.YAMLError, ValueError) as error:
        return _cannot_load("shaobao triage cross", error)


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:]))
