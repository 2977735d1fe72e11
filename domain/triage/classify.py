"""Classification of an appeal's text into category and appeal type, by cue scoring."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.triage.learned import NO_OPINION, Opinion, weighed
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


@dataclass(frozen=True)
class TypeReading:
    """The appeal type, the lexicon words for it, and the model's probability (None without a model)."""

    score: Score
    model: float | None = None

    @property
    def label(self) -> str:
        return self.score.label


class AppealTypeClassifier:
    """Picks the appeal type from its cues and the learned model, leaning to the category's usual type.

    With a model, each type scores `lexicon_weight` × its cue points plus the log of
    the model's probability, plus `usual_type_bonus` for the category's usual type.
    Without one, the best cue score decides when it is high enough, else the usual type.
    """

    def __init__(self, lexicon: Lexicon) -> None:
        self._matchers = [CueMatcher(code, cues) for code, cues in lexicon.appeal_types.items()]
        self._usual: Mapping[str, str | None] = {
            code: cues.usual_type for code, cues in lexicon.categories.items()
        }
        self._default = lexicon.default_appeal_type
        thresholds = lexicon.thresholds
        self._min_score = thresholds.type_min_score
        self._weight = thresholds.type_lexicon_weight
        self._bonus = thresholds.usual_type_bonus

    def words(self) -> set[str]:
        """Every word the appeal types look for."""
        return {word for matcher in self._matchers for word in matcher.words()}

    def classify(self, scan: Scan, category: str, opinion: Opinion = NO_OPINION) -> TypeReading:
        """The appeal type with the words that decided it (none when it fell back)."""
        scores = sorted((m.score(scan) for m in self._matchers), key=lambda s: -s.value)
        usual = self._usual.get(category) or self._default
        if opinion.best is not None:
            return self._weigh(scores, usual, opinion)
        if scores and scores[0].value >= self._min_score:
            return TypeReading(scores[0])
        return TypeReading(Score(usual, 0.0, ()))

    def _weigh(self, scores: list[Score], usual: str, opinion: Opinion) -> TypeReading:
        cues = {score.label: score for score in scores}
        model = dict(opinion.ranked)
        labels = sorted(cues.keys() | model.keys() | {usual})
        points = {label: score.value for label, score in cues.items()}
        weights = weighed(labels, points, model, self._weight, floor=1e-9)
        weights[usual] += self._bonus
        label = max(labels, key=weights.__getitem__)
        found = cues.get(label)
        score = found if found is not None and found.value > 0 else Score(label, 0.0, ())
        return TypeReading(score, model.get(label, 0.0))
