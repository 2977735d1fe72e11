"""Classification of an appeal's text into category and appeal type, by cue scoring."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace

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

    def scores(self, scan: Scan, labels: Collection[str]) -> dict[str, float]:
        """The scores of some categories only (cheaper than ranking all of them)."""
        return {
            matcher.label: matcher.score(scan).value if not gate or gate & scan.present else 0.0
            for matcher, gate in self._matchers
            if matcher.label in labels
        }

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
    """The appeal type, the lexicon words for it, and the model's probability (None without a model).

    `confidence` is the weighed share of the type taken; `ranked` the weighed shares of
    every type, best first (empty without a model); `report` the report cues found whatever
    type won (a report may be taken for a complaint: its reporter still needs hiding);
    `doubt` why it may be a report though another type won ('' when nothing suggests it):
    the caller is then withheld as a reporter's would be.
    """

    score: Score
    model: float | None = None
    confidence: float = 1.0
    ranked: tuple[tuple[str, float], ...] = ()
    report: Score = Score("report", 0.0, ())
    doubt: str = ""

    @property
    def label(self) -> str:
        return self.score.label

    def share(self, label: str) -> float:
        """The weighed share of one type (1 or 0 when the lexicon decided alone)."""
        if not self.ranked:
            return 1.0 if label == self.label else 0.0
        return next((p for code, p in self.ranked if code == label), 0.0)


class AppealTypeClassifier:
    """Picks the appeal type from its cues and the learned model, leaning to the category's usual type.

    With a model, each type scores `lexicon_weight` × its cue points plus the log of
    the model's probability, plus `usual_type_bonus` for the category's usual type; the
    softmax of these scores gives each type's share, and the best one's is the confidence.
    Without one, the best cue score decides when it is high enough, else the usual type.
    `with_report_doubt` then notes when the type taken may be a report after all, so
    the caller is kept secret as a reporter would be, while the type stays the reading.
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
        self._report_share = thresholds.report_suspect_share
        self._report_points = thresholds.report_hint_min_score

    def words(self) -> set[str]:
        """Every word the appeal types look for."""
        return {word for matcher in self._matchers for word in matcher.words()}

    def classify(self, scan: Scan, category: str, opinion: Opinion = NO_OPINION) -> TypeReading:
        """The appeal type with the words that decided it (none when it fell back)."""
        scores = sorted((m.score(scan) for m in self._matchers), key=lambda s: -s.value)
        report = next((s for s in scores if s.label == "report"), Score("report", 0.0, ()))
        usual = self._usual.get(category) or self._default
        if opinion.best is not None:
            return self._weigh(scores, usual, opinion, report)
        if scores and scores[0].value >= self._min_score:
            return TypeReading(scores[0], report=report)
        return TypeReading(Score(usual, 0.0, ()), report=report)

    def _weigh(self, scores: list[Score], usual: str, opinion: Opinion, report: Score) -> TypeReading:
        cues = {score.label: score for score in scores}
        model = dict(opinion.ranked)
        labels = sorted(cues.keys() | model.keys() | {usual})
        points = {label: score.value for label, score in cues.items()}
        weights = weighed(labels, points, model, self._weight, floor=1e-9)
        weights[usual] += self._bonus
        ranked = _softmax(weights)
        label, confidence = ranked[0]
        found = cues.get(label)
        score = found if found is not None and found.value > 0 else Score(label, 0.0, ())
        return TypeReading(score, model.get(label, 0.0), confidence, ranked, report)

    def with_report_doubt(self, reading: TypeReading) -> TypeReading:
        """The reading, with why it may be a report after all (see `report_gate`); the type is kept.

        The type is what the appeal most likely is (the monthly analysis counts it);
        the doubt is what protects the caller: a report's caller is withheld from units.
        """
        why = report_gate(reading, self._report_share, self._report_points)
        return replace(reading, doubt=why) if why else reading


def report_gate(reading: TypeReading, share_floor: float, points_floor: float) -> str:
    """Why an appeal not read as a report may be one, in Chinese ('' when nothing suggests it).

    A report's caller is kept from the units it names; a reporter exposed to the
    neighbour or the official they reported costs far more than a complainant kept
    anonymous. So a fair weighed share on report, or report cues of some weight
    (naming a wrongdoer, asking for punishment, fearing retaliation), is enough.
    """
    if reading.label == "report":
        return ""
    share = reading.share("report")
    if share >= share_floor:
        return f"举报可能性{share:.2f}"
    if reading.report.value >= points_floor:
        return f"命中举报特征{'、'.join(f'“{hit}”' for hit in reading.report.hits[:3])}"
    return ""


def _softmax(scores: Mapping[str, float]) -> tuple[tuple[str, float], ...]:
    top = max(scores.values())
    weights = {label: math.exp(value - top) for label, value in scores.items()}
    norm = sum(weights.values())
    return tuple(sorted(((k, w / norm) for k, w in weights.items()), key=lambda p: (-p[1], p[0])))
