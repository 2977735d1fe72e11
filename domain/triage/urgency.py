"""Urgency: the category's default, raised by signs of danger or hardship in the text.

`emergency` is kept for appeals handed to 110/119/120; danger signs in any
other category raise it to `urgent`, so no danger is left at `normal`.

When unsure whether a life is at risk, triage errs toward urgency and says
so: signs of danger or hardship that fall short of the line, next to a person
who cannot look after themselves (an old man on oxygen, children, someone
bedridden), raise the appeal to `urgent` "from caution". The finding carries a
confidence: how clearly its evidence stands on its side of the line.
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
    confidence: float = 1.0
    # Why it was raised from caution, not evidence ('' when it was not).
    caution: str = ""


class UrgencyAssessor:
    """Raises a category's default urgency on danger signs, never lowers it."""

    def __init__(self, lexicon: Lexicon) -> None:
        self._emergency = CueMatcher("emergency", lexicon.urgency.emergency)
        self._urgent = CueMatcher("urgent", lexicon.urgency.urgent)
        self._vulnerable = frozenset(lexicon.urgency.vulnerable)
        self._min_score = lexicon.thresholds.urgency_min_score

    def words(self) -> set[str]:
        """Every word the urgency signs look for."""
        return self._emergency.words() | self._urgent.words() | self._vulnerable

    def danger_now(self, scan: Scan) -> tuple[bool, tuple[str, ...]]:
        """Whether the text shows danger to life or property right now, and the signs."""
        score = self._emergency.score(scan)
        return score.value >= self._min_score, score.hits

    def assess(self, scan: Scan, category: Category, raise_on_signs: bool = True) -> UrgencyFinding:
        """The urgency for this text in this category, with its reasons.

        `raise_on_signs=False` keeps the category default (e.g. for praise).
        """
        default = category.urgency
        line = self._min_score
        danger = self._emergency.score(scan)
        if category.transfer is not None:
            return UrgencyFinding("emergency", danger.hits, danger.value >= line)
        if not raise_on_signs:
            return UrgencyFinding(default, (), False)
        if danger.value >= line:
            return UrgencyFinding(_max(default, "urgent"), danger.hits, True, _clear(danger.value, line))
        risk = self._urgent.score(scan)
        if URGENCY_RANK[default] >= URGENCY_RANK["urgent"]:
            return UrgencyFinding(default, (), False)
        if risk.value >= line:
            return UrgencyFinding("urgent", risk.hits, False, _clear(risk.value, line))
        short = max(danger.value, risk.value)
        people = sorted(self._vulnerable & scan.present)
        if people and short >= line / 2:
            signs = (*danger.hits, *risk.hits)
            caution = f"有{'、'.join(people[:3])}，且有{'、'.join(signs[:3])}，无法排除危及生命"
            return UrgencyFinding("urgent", signs, False, 0.5, caution)
        return UrgencyFinding(default, (), False, 1.0 - short / line / 2)


def _clear(value: float, line: float) -> float:
    """How clearly `value` points clear the `line`: 0.5 on it, 1 at twice it."""
    return min(1.0, value / line / 2)


def _max(a: Urgency, b: Urgency) -> Urgency:
    return a if URGENCY_RANK[a] >= URGENCY_RANK[b] else b
