"""Urgency: the category's default, raised by signs of danger or hardship in the text.

`emergency` is kept for appeals handed to 110/119/120; danger signs in any
other category raise it to `urgent`, so no danger is left at `normal`.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.jurisdiction import Category, Urgency
from domain.triage.lexicon import Lexicon
from domain.triage.matching import CueMatcher, Scan

# Urgencies in order: a higher rank is more urgent.
URGENCY_RANK: dict[Urgency, int] = {"normal": 0, "urgent": 1, "emergency": 2}


@dataclass(frozen=True)
class UrgencyFinding:
    """The urgency, the signs that raised it (empty when it is the category default)."""

    urgency: Urgency
    signs: tuple[str, ...]
    danger_now: bool


class UrgencyAssessor:
    """Raises a category's default urgency on danger signs, never lowers it."""

    def __init__(self, lexicon: Lexicon) -> None:
        self._emergency = CueMatcher("emergency", lexicon.urgency.emergency)
        self._urgent = CueMatcher("urgent", lexicon.urgency.urgent)
        self._min_score = lexicon.thresholds.urgency_min_score

    def words(self) -> set[str]:
        """Every word the urgency signs look for."""
        return self._emergency.words() | self._urgent.words()

    def danger_now(self, scan: Scan) -> tuple[bool, tuple[str, ...]]:
        """Whether the text shows danger to life or property right now, and the signs."""
        score = self._emergency.score(scan)
        return score.value >= self._min_score, score.hits

    def assess(self, scan: Scan, category: Category, raise_on_signs: bool = True) -> UrgencyFinding:
        """The urgency for this text in this category, with its reasons.

        `raise_on_signs=False` keeps the category default (e.g. for praise).
        """
        default = category.urgency
        danger, danger_signs = self.danger_now(scan)
        if category.transfer is not None:
            return UrgencyFinding("emergency", danger_signs, danger)
        if not raise_on_signs:
            return UrgencyFinding(default, (), False)
        if danger:
            return UrgencyFinding(_max(default, "urgent"), danger_signs, True)
        risk = self._urgent.score(scan)
        if risk.value >= self._min_score and URGENCY_RANK[default] < URGENCY_RANK["urgent"]:
            return UrgencyFinding("urgent", risk.hits, False)
        return UrgencyFinding(default, (), False)


def _max(a: Urgency, b: Urgency) -> Urgency:
    return a if URGENCY_RANK[a] >= URGENCY_RANK[b] else b
