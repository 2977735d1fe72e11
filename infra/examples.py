"""Reading labelled appeals (the corpus format) as training examples for the triager's model."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from domain.triage.learned import LabelledText

REPO_ROOT = Path(__file__).resolve().parent.parent
# The labelled appeals shipped with the sample county that are not kept blind:
# the corpus and the two tuning sets. Blind sets (triage_holdout, triage_blind2) stay out.
DEFAULT_EXAMPLE_FILES: tuple[Path, ...] = (
    REPO_ROOT / "data" / "corpus" / "appeals_labeled.jsonl",
    REPO_ROOT / "tests" / "data" / "triage_dev.jsonl",
    REPO_ROOT / "tests" / "data" / "triage_dev2.jsonl",
)


def read_examples(paths: Sequence[Path], leave_out: Iterable[str] = ()) -> list[LabelledText]:
    """Text and category of every labelled line; texts in `leave_out` are skipped.

    A missing file is skipped too: a deployment without labelled data runs on
    its lexicon alone. Lines without `expect.category` are not examples.
    """
    excluded = set(leave_out)
    examples: list[LabelledText] = []
    for path in paths:
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            expect = row.get("expect") if isinstance(row, dict) else None
            text = row.get("text") if isinstance(row, dict) else None
            category = expect.get("category") if isinstance(expect, dict) else None
            if isinstance(text, str) and isinstance(category, str) and text not in excluded:
                examples.append(LabelledText(text, category))
    return examples
