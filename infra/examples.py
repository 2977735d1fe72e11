"""Reading labelled appeals (the corpus format) as training examples for the triager's model."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from domain.triage import LabelledText

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS = REPO_ROOT / "data" / "corpus"
# The labelled appeals shipped with the sample county, each file by a different author
# (so `shaobao triage cross` can grade each on a model taught by the others). They live
# beside the jurisdiction data, not under tests/, so every deployment (the Docker image
# too) trains the same triager. Old blind sets are ordinary labelled data once graded;
# the set being graded is never shipped here until its grade is recorded.
DEFAULT_EXAMPLE_FILES: tuple[Path, ...] = tuple(
    CORPUS / name
    for name in (
        "appeals_labeled.jsonl",
        "triage_dev.jsonl",
        "triage_dev2.jsonl",
        "triage_holdout.jsonl",
        "triage_blind2.jsonl",
        "triage_dev3.jsonl",
        "triage_dev4.jsonl",
        "triage_blind3.jsonl",
        "triage_blind4a.jsonl",
        "triage_blind4b.jsonl",
        "triage_train5_clean.jsonl",
        "triage_train5_spoken.jsonl",
        "triage_train5_pasted.jsonl",
        "triage_train5_boundary.jsonl",
        "triage_blind5_clean.jsonl",
        "triage_blind5_spoken.jsonl",
        "triage_blind5_pasted.jsonl",
        "triage_blind5_mixed.jsonl",
        "triage_blind6_reports.jsonl",
        "triage_blind6_urgent.jsonl",
        "triage_blind6_twoproblems.jsonl",
        "triage_blind6_general.jsonl",
        "triage_blind7_clean.jsonl",
        "triage_blind7_spoken.jsonl",
        "triage_blind7_pasted.jsonl",
        "triage_blind8_hard.jsonl",
        "triage_blind8_spoken.jsonl",
        "triage_blind8_day.jsonl",
        "triage_blind9_ops.jsonl",
        "triage_blind9_spoken.jsonl",
        "triage_blind9_written.jsonl",
        "triage_blind10_spoken.jsonl",
        "triage_blind10_written.jsonl",
        "triage_blind10_boundary.jsonl",
    )
)


class ExamplesMissing(FileNotFoundError):
    """A labelled file the triager is configured to learn from is not there."""


def read_examples(paths: Sequence[Path], leave_out: Iterable[str] = ()) -> list[LabelledText]:
    """Text, category and appeal type of every labelled line; texts in `leave_out` are skipped.

    A configured file that is missing raises `ExamplesMissing`: skipped silently, it would
    give this deployment another triager than the rest (an image built without `data/`
    once trained on 420 examples instead of 1,715). Lines without `expect.category` are
    not examples. Each example's source is its file's name, so one author's wording stays
    together.
    """
    excluded = set(leave_out)
    examples: list[LabelledText] = []
    for path in paths:
        if not path.is_file():
            raise ExamplesMissing(f"labelled appeals the triager learns from are missing: {path}")
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            expect = row.get("expect") if isinstance(row, dict) else None
            text = row.get("text") if isinstance(row, dict) else None
            category = expect.get("category") if isinstance(expect, dict) else None
            kind = expect.get("appeal_type") if isinstance(expect, dict) else None
            if isinstance(text, str) and isinstance(category, str) and text not in excluded:
                appeal_type = kind if isinstance(kind, str) else None
                examples.append(LabelledText(text, category, appeal_type, path.name))
    return examples
