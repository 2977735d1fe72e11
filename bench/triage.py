"""Triage accuracy for BENCHMARKS.md: `shaobao triage cross` over the shipped labelled files.

Leave one file out: each labelled file (each by its own author) is graded by a triager
whose model and auto-dispatch gate learned from the other files only. Also records the
blind gradings of the issue's targets (`triage_blind_grades.md`), each on files written for it
and shipped only after.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

from bench.report import REPORT, markers, write_section
from shaobao import triage_cli
from streams.settings import REPO_ROOT

RESULTS = REPO_ROOT / "bench" / "triage.json"
# Each blind grade of issue 14's targets: graded once, with `shaobao triage --eval FILE`, before the
# files were shipped or looked at by anyone tuning triage, and beside the triager of an earlier commit.
BLIND_GRADES = REPO_ROOT / "bench" / "triage_blind_grades.md"


def section(text: str) -> str:
    begin, end = markers("triage-accuracy")
    gates = [line for line in text.splitlines() if line.startswith("== held out:")]
    pooled = text[text.index("== pooled") :].splitlines()[1:]
    measured = datetime.now(UTC).isoformat(timespec="seconds")
    return "\n".join(
        [
            begin,
            "## Triage accuracy (`shaobao triage cross`)",
            f"Measured {measured}. Leave one file out: each labelled file (each by its own author) is",
            "graded by a triager whose model and gate learned from the other files only. Lead accuracy",
            "counts the appeals dispatched automatically; an emergency is caught when it is transferred,",
            "or raised to urgent at least. The lexicon was tuned on these files, so these figures",
            "flatter it a little. Timings here are not the benchmark's.",
            "",
            BLIND_GRADES.read_text(encoding="utf-8").rstrip("\n"),
            "",
            "```",
            *gates,
            *[line for line in pooled if not line.startswith("decide()")],
            "```",
            end,
        ]
    )


def main() -> None:
    out = io.StringIO()
    triage_cli.run(["cross"], out=out)
    text = out.getvalue()
    write_section(RESULTS, {"cross": text}, section(text), *markers("triage-accuracy"))
    print(f"wrote the triage-accuracy section of {REPORT} and {RESULTS}")


if __name__ == "__main__":
    main()
