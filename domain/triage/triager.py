"""The triage brain: appeal + jurisdiction + lexicon → decision, with its reasons."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from domain.jurisdiction import Category, Jurisdiction, Route
from domain.triage import explain
from domain.triage.classify import AppealTypeClassifier, CategoryClassifier, CategoryGuess
from domain.triage.geometry import Polygon
from domain.triage.lexicon import Lexicon
from domain.triage.matching import CueMatcher, HedgeDetector, Score
from domain.triage.places import PlaceFinder, TownFinding, build_place_index, resolve_town
from domain.triage.urgency import UrgencyAssessor, UrgencyFinding
from schemas.appeal import Appeal
from schemas.triage import AppealTypeCode, Disposition, TriageDecision

_APPEAL_TYPES: dict[str, AppealTypeCode] = {
    "consult": "consult",
    "help": "help",
    "complaint": "complaint",
    "report": "report",
    "suggestion": "suggestion",
    "praise": "praise",
}


@dataclass(frozen=True)
class _Reading:
    """Everything read from one appeal before the disposition is decided."""

    guess: CategoryGuess
    category: Category
    appeal_type: Score
    town: TownFinding
    urgency: UrgencyFinding
    confidence: float


class Triager:
    """Decides appeals for one jurisdiction; build once, then call `decide` per appeal.

    Indices (place names, cue matchers) are built here so that `decide` only scans text.
    """

    def __init__(
        self,
        jurisdiction: Jurisdiction,
        lexicon: Lexicon,
        boundaries: Mapping[str, Sequence[Polygon]] | None = None,
    ) -> None:
        lexicon.check_against(jurisdiction)
        self._jurisdiction = jurisdiction
        self._lexicon = lexicon
        self._categories = jurisdiction.category_by_code
        hedges = HedgeDetector(lexicon.hedges, lexicon.hedge_suffixes)
        index = build_place_index(jurisdiction, lexicon.place_aliases, lexicon.place_stem_suffixes)
        self._places = PlaceFinder(index, lexicon.place_noise, lexicon.place_stem_followers)
        self._boundaries = dict(boundaries or {})
        self._category = CategoryClassifier(lexicon, hedges)
        self._type = AppealTypeClassifier(lexicon, hedges)
        self._urgency = UrgencyAssessor(lexicon, hedges)
        self._asks_action = CueMatcher("asks_action", lexicon.instant.asks_action, hedges)
        self._no_action = CueMatcher("no_action", lexicon.instant.no_action, hedges)
        self._fallback = next(iter(lexicon.categories))

    def decide(self, appeal: Appeal) -> TriageDecision:
        """Classify, locate and route one appeal; low confidence goes to a person (manual)."""
        reading = self._read(appeal)
        disposition, route, why = self._dispose(appeal.text, reading)
        lines = [
            explain.category_line(self._jurisdiction, reading.guess.best, reading.guess.runner_up),
            explain.type_line(reading.appeal_type),
            explain.town_line(self._jurisdiction, reading.town),
            explain.urgency_line(reading.urgency),
            why,
        ]
        suggestion = self._suggest(reading) if disposition == "manual" else ()
        guess_route = self._jurisdiction.route(reading.category.code, reading.town.town)
        return TriageDecision(
            appeal_type=_APPEAL_TYPES.get(reading.appeal_type.label, "help"),
            category=reading.category.code,
            urgency=reading.urgency.urgency,
            town=reading.town.town,
            town_resolution=reading.town.resolution,
            disposition=disposition,
            lead=route.lead if route else None,
            co=route.co if route else (),
            transfer_to=reading.category.transfer if disposition == "transfer" else None,
            confidence=round(reading.confidence, 3),
            explanation=tuple(lines),
            suggestion=suggestion,
            jurisdiction_version=self._jurisdiction.version,
            suggested_lead=guess_route.lead if disposition == "manual" and guess_route else None,
            suggested_co=guess_route.co if disposition == "manual" and guess_route else (),
            town_candidates=reading.town.candidates if reading.town.town is None else (),
        )

    def _read(self, appeal: Appeal) -> _Reading:
        in_text = self._places.mentions(appeal.text, in_address=False)
        text = self._places.mask(appeal.text, in_text)
        guess = self._category.classify(text)
        code = guess.best.label if guess.best.value > 0 else self._fallback
        category = self._categories[code]
        mentions = self._places.mentions(appeal.address, in_address=True) + in_text
        town = resolve_town(mentions, appeal.location, self._boundaries)
        return _Reading(
            guess=guess,
            category=category,
            appeal_type=self._type.classify(text, code),
            town=town,
            urgency=self._urgency.assess(text, category),
            confidence=self._confidence(guess),
        )

    def _confidence(self, guess: CategoryGuess) -> float:
        """How sure the category is: enough evidence, and clear of the next category.

        A runner-up that routes exactly like the best one does not count against
        it: confusing 施工噪音 with 违建 matters, confusing two labels for the same
        units does not.
        """
        best = guess.best
        strong = 2 * self._lexicon.thresholds.category_min_score
        sufficiency = min(1.0, best.value / strong) if strong > 0 else 1.0
        rival = next((s for s in guess.ranked[1:] if not self._same_routing(best.label, s.label)), None)
        rival_value = rival.value if rival is not None else 0.0
        separation = (best.value - rival_value) / best.value if best.value > 0 else 0.0
        return max(0.0, min(1.0, sufficiency * (0.4 + 0.6 * separation)))

    def _same_routing(self, a: str, b: str) -> bool:
        first, second = self._categories[a], self._categories[b]
        return (
            first.route_for("urban") == second.route_for("urban")
            and first.route_for("rural") == second.route_for("rural")
            and (first.transfer, first.instant) == (second.transfer, second.instant)
        )

    def _dispose(self, text: str, reading: _Reading) -> tuple[Disposition, Route | None, str]:
        """Transfer, instant, dispatch or manual — and the sentence that says why."""
        category = reading.category
        if category.transfer is not None and (reading.urgency.danger_now or self._confident(reading)):
            return "transfer", None, f"处置：转{category.transfer}（{category.name}，紧急警情不派单）"
        if self._is_instant(text, reading):
            return "instant", None, "处置：热线即办（无需承办单位办理）"
        if not self._confident(reading):
            floor = self._lexicon.thresholds.confidence_floor
            return "manual", None, f"处置：转人工（分类置信度{reading.confidence:.2f}低于{floor:g}）"
        route = self._jurisdiction.route(category.code, reading.town.town)
        if route is None:
            return "manual", None, "处置：转人工（该分类须派属地，但属地未能确定）"
        return "dispatch", route, explain.route_line(self._jurisdiction, route.lead, route.co)

    def _confident(self, reading: _Reading) -> bool:
        threshold = self._lexicon.thresholds
        return (
            reading.guess.best.value >= threshold.category_min_score
            and reading.confidence >= threshold.confidence_floor
        )

    def _is_instant(self, text: str, reading: _Reading) -> bool:
        rules = self._lexicon.instant
        appeal_type = reading.appeal_type.label
        if appeal_type in rules.always_types:
            return True
        min_score = self._lexicon.thresholds.action_min_score
        if appeal_type in rules.no_action_types and self._no_action.score(text).value >= min_score:
            return True
        asks = self._asks_action.score(text).value >= min_score
        return reading.category.instant and not asks and self._confident(reading)

    def _suggest(self, reading: _Reading) -> tuple[str, ...]:
        """The best guess for the person who dispatches by hand."""
        lines = [f"建议分类：{reading.category.name}（{reading.category.code}）"]
        for other in reading.guess.ranked[1:3]:
            if other.value > 0:
                lines.append(f"备选分类：{self._categories[other.label].name}（{other.label}）")
        template = reading.category.route_for(None)
        if reading.town.town is None and reading.town.candidates:
            towns = "、".join(self._jurisdiction.unit_name(code) for code in reading.town.candidates)
            lines.append(f"候选属地：{towns}")
        lines.append(f"路由表：{template.lead}牵头" + (f"，{'、'.join(template.co)}协办" if template.co else ""))
        return tuple(lines)
