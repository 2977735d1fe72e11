"""`shaobao triage`: run the triage brain over a JSONL file of appeals, or measure it.

    shaobao triage FILE.jsonl           one JSON decision per input line (with the input `id`)
    shaobao triage --eval FILE.jsonl    accuracy against each line's `expect` labels
    shaobao triage eval FILE.jsonl      the same
    shaobao triage --check-labels FILE.jsonl   labels that disagree with the routing table
    shaobao triage cross [FILE.jsonl ...]      leave-one-file-out: each file graded by a model
                                               trained on the others (default: the shipped files;
                                               --jobs N folds side by side, one per CPU by default)

Input lines are in the labelled-corpus format (channel, received_at, text,
address, caller, optional location, optional expect); `id` becomes source_id.
The learned model trains on the shipped labelled appeals (`--examples`, or
`--no-model` for the lexicon alone); lines of the evaluated file are always
left out of its training, so `--eval` never grades it on what it learned.
This is the shell: it reads files and the clock, the domain does neither.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import yaml
from pydantic import ValidationError

from domain.jurisdiction import Jurisdiction
from domain.triage import LabelledText, Triager, label_problems
from infra.examples import DEFAULT_EXAMPLE_FILES, read_examples
from infra.reference import build_reference, lexicon_path_for, load_jurisdiction, read_reference
from infra.triager_cache import TriagerCache
from schemas.appeal import Appeal
from shaobao.triage_eval import Evaluation, report, summary
from streams.settings import Settings

_DATA = Path(__file__).resolve().parent.parent / "data" / "jurisdiction"
DEFAULT_JURISDICTION = _DATA / "sample-county.yaml"


def build_triager(
    jurisdiction_path: Path,
    lexicon_path: Path,
    examples: Sequence[LabelledText] = (),
    cache: TriagerCache | None = None,
) -> Triager:
    """Load both reference files and build the triager exactly as a worker does (same version
    digest): from `cache` when one trained on the same files and examples is kept there."""
    published = read_reference(jurisdiction_path, lexicon_path, datetime.now(UTC))
    return build_reference(published, examples, cache).router


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


def _evaluate(triager: Triager, path: Path, out: TextIO, show_errors: bool) -> int:
    report(_score(triager, path), out, show_errors)
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
        kinds = row.get("kinds")
        ev.add_kinds(
            [str(k) for k in kinds] if isinstance(kinds, list) else [], str(row.get("id")), expect, decision
        )
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


def _cross(
    files: Sequence[Path], jurisdiction: Path, lexicon: Path, out: TextIO, show_errors: bool, jobs: int = 1
) -> int:
    """Leave one file out: each file graded by a triager whose model learned from the others only.

    Each labelled file has its own author, so a file the model never saw stands in
    for wording it will meet in service. Pooled figures add every file's counts.
    The folds are independent: `jobs` processes build and grade them side by side, and the
    output is in file order whatever order they finish in.
    """
    folds = [(list(files), held_out, jurisdiction, lexicon, show_errors) for held_out in files]
    if jobs > 1:
        # spawn, not fork: the caller may hold threads (a test session, an event loop).
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            graded = list(pool.map(_fold, *zip(*folds, strict=True)))
    else:
        graded = [_fold(*fold) for fold in folds]
    pooled = Evaluation()
    rows: list[tuple[str, Evaluation]] = []
    for held_out, (text, ev) in zip(files, graded, strict=True):
        out.write(text)
        pooled.merge(ev)
        rows.append((held_out.name, ev))
    out.write("== pooled over the held-out files\n")
    report(pooled, out, show_errors=False)
    summary(rows, pooled, out)
    return 0


def _fold(
    files: Sequence[Path], held_out: Path, jurisdiction: Path, lexicon: Path, show_errors: bool
) -> tuple[str, Evaluation]:
    """One held-out file graded by a triager taught the others: what it prints, and its counts."""
    out = io.StringIO()
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
    report(ev, out, show_errors)
    return out.getvalue(), ev


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
        cache = TriagerCache.under(Settings.from_env().cache_dir)
        triager = build_triager(args.jurisdiction, lexicon, examples, cache)
    except (OSError, yaml.YAMLError, ValueError) as error:
        return _cannot_load("shaobao triage", error)
    if args.eval:
        return _evaluate(triager, args.file, stream, args.errors)
    return _triage(triager, args.file, stream)


def _run_cross(argv: Sequence[str], out: TextIO) -> int:
    parser = argparse.ArgumentParser(prog="shaobao triage cross", description=_cross.__doc__)
    parser.add_argument("files", type=Path, nargs="*", help="labelled files (default: the shipped ones)")
    parser.add_argument("--errors", action="store_true", help="list every wrong field per held-out file")
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="folds built side by side (default: one per CPU; 1: in this process)",
    )
    _reference_arguments(parser)
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    files = args.files or [path for path in DEFAULT_EXAMPLE_FILES if path.is_file()]
    if len(files) < 2:
        print("shaobao triage cross: needs at least two labelled files", file=sys.stderr)
        return 2
    lexicon = args.lexicon or lexicon_path_for(args.jurisdiction)
    try:
        return _cross(files, args.jurisdiction, lexicon, out, args.errors, min(args.jobs, len(files)))
    except (OSError, yaml.YAMLError, ValueError) as error:
        return _cannot_load("shaobao triage cross", error)


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:]))
