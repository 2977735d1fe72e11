"""Classification of an appeal's text into category and appeal type, by cue scoring."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.triage.lexicon import Lexicon
from domain.triage.matching import CueMatcher, Scan, Score


@dataclass(frozen=True)
class CategoryGuess:
    """The ranked category scores; `best` is the top one."""

    ranked: tuple[Score, ...]

    @property
    def best(self) -> Score:
        return self.ranked[0]

    @property
    def runner_up(self) -> Score | None:
        return self.ranked[1] if len(self.ranked) > 1 else None


class CategoryClassifier:
    """Scores every category's cues against the text and ranks them."""

    def __init__(self, lexicon: Lexicon) -> None:
        self._matchers = [
            (CueMatcher(code, cues), frozenset(cues.requires)) for code, cues in lexicon.categories.items()
        ]

    def words(self) -> set[str]:
        """Every word the categories look for, gates included."""
        return {word for matcher, gate in self._matchers for word in (*matcher.words(), *gate)}

    def classify(self, scan: Scan) -> CategoryGuess:
        """Rank categories by score, best first; ties keep the lexicon's order."""
        scores = [
            matcher.score(scan) if not gate or gate & scan.present else Score(matcher.label, 0.0, ())
            for matcher, gate in self._matchers
        ]
        # A decisive rule puts its category first; among several, the higher score wins.
        ranked = sorted(scores, key=lambda score: (not score.decisive, -score.value))
        return CategoryGuess(tuple(ranked))


class AppealTypeClassifier:
    """Picks the appeal type from its cues, else the category's usual type, else the default."""

    def __init__(self, lexicon: Lexicon) -> None:
        self._matchers = [CueMatcher(code, cues) for code, cues in lexicon.appeal_types.items()]
        self._usual: Mapping[str, str | None] = {
            code: cues.usual_type for code, cues in lexicon.categories.items()
        }
        self._default = lexicon.default_appeal_type
        self._min_score = lexicon.thresholds.type_min_score

    def words(self) -> set[str]:
        """Every word the appeal types look for."""
        return {word for matcher in self._matchers for word in matcher.words()}

    def classify(self, scan: Scan, category: str) -> Score:
        """The appeal type with the words that decided it (none when it fell back)."""
        scores = sorted((m.score(scan) for m in self._matchers), key=lambda s: -s.value)
        if scores and scores[0].value >= self._min_score:
            return scores[0]
        usual = self._usual.get(category)
        return Score(usual or self._default, 0.0, ())
