"""Triage accuracy for BENCHMARKS.md: `shaobao triage cross` over the shipped labelled files.

Leave one file out: each labelled file (each by its own author) is graded by a triager
whose model and auto-dispatch gate learned from the other files only. Also records the
one blind grading of the issue's targets, on a file written for it and shipped only after.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

from bench.report import REPORT, markers, write_section
from shaobao import triage_cli
from streams.settings import REPO_ROOT

RESULTS = REPO_ROOT / "bench" / "triage.json"
# Graded once, before the file was shipped or looked at by anyone tuning triage
# (`shaobao triage eval triage_blind3.jsonl`, model from the seven other files).
BLIND_GRADE = """\
Blind grade of the issue's targets (2026-12-01, the commit that shipped the file): 200 appeals written
for it by an author who saw only the jurisdiction file (`tests/data/triage_blind3.jsonl`,
shipped after grading), triaged by a model and gate taught by the seven other files:
lead right on 98.0% (145/148) of automatic dispatches, 96.0% (145/151) of dispatchable
appeals dispatched automatically, town right on 100.0% (157/157) where resolvable,
ambiguous-only places kept manual 17/17, emergencies missed 0 of 18."""


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
            BLIND_GRADE,
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
