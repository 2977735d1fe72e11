"""The auto-dispatch gate, calibrated on labelled appeals the model did not learn from.

A wrong work order costs a unit a wasted trip and the caller days; a manual
ticket costs a person a minute. So the gate is the lowest confidence at which
the appeals triage would dispatch were routed right at least `precision` of
the time, measured on held-out appeals: each labelled file (or group of
files, when there are many) in turn is left out, the model learns from the
others, and the left-out files are read.
Files are written by different people, so a held-out file stands for wording
the triager has not met (random folds would let an author's phrasing leak in
and make the triager look surer than it is).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from domain.triage.learned import LabelledText

# Fewer distinct sources than this, and the examples are dealt into this many folds instead.
FOLDS = 5
# At most this many folds of whole sources (files by different authors).
MAX_SOURCE_FOLDS = 6


@dataclass(frozen=True)
class Outcome:
    """One held-out appeal: the verdict's confidence, and whether its routing was right."""

    confidence: float
    right: bool


@dataclass(frozen=True)
class Gate:
    """The confidence an auto-dispatch needs, and what it was measured to give."""

    threshold: float
    precision: float = 0.0
    coverage: float = 0.0
    measured_on: int = 0


def calibrate(outcomes: Iterable[Outcome], precision: float, floor: float) -> Gate:
    """The lowest threshold (not below `floor`) whose dispatches were right `precision` of the time.

    Thresholds are only tried between distinct confidences, so ties stay together.
    When even the least sure were right often enough, the floor is the gate: nothing
    was measured below them. With no threshold good enough, nothing clears the gate
    (threshold above 1).
    """
    ranked = sorted(outcomes, key=lambda o: -o.confidence)
    best = Gate(threshold=1.01, measured_on=len(ranked))
    right = 0
    for count, outcome in enumerate(ranked, start=1):
        right += outcome.right
        tied = count < len(ranked) and ranked[count].confidence == outcome.confidence
        if not tied and right >= precision * count:
            best = Gate(outcome.confidence, right / count, count / len(ranked), len(ranked))
    if best.coverage == 1.0 or best.threshold < floor:
        kept = [o for o in ranked if o.confidence >= floor]
        hits = sum(o.right for o in kept)
        return Gate(floor, hits / len(kept) if kept else 0.0, len(kept) / len(ranked), len(ranked))
    return best


def folds(examples: Sequence[LabelledText]) -> list[tuple[list[LabelledText], list[LabelledText]]]:
    """(training, held out) pairs: whole sources held out together when there are several, else dealt folds.

    With more than `MAX_SOURCE_FOLDS` sources, they are dealt into that many groups:
    each fold still holds out authors the model has not read, and a build trains
    that many models, not one per file.
    """
    sources = sorted({e.source for e in examples})
    if len(sources) >= 2:
        count = min(len(sources), MAX_SOURCE_FOLDS)
        group = {source: k % count for k, source in enumerate(sources)}
        return [
            (
                [e for e in examples if group[e.source] != k],
                [e for e in examples if group[e.source] == k],
            )
            for k in range(count)
        ]
    if len(examples) < FOLDS:
        return []
    dealt = [list(examples[k::FOLDS]) for k in range(FOLDS)]
    return [([e for j, fold in enumerate(dealt) if j != k for e in fold], dealt[k]) for k in range(FOLDS)]
