"""The triage brain: appeal + jurisdiction + lexicon → decision, with its reasons."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from domain.jurisdiction import Category, Jurisdiction, Route
from domain.triage import explain
from domain.triage.classify import AppealTypeClassifier, CategoryClassifier, CategoryGuess
from domain.triage.geometry import Polygon
from domain.triage.learned import LabelledText, NaiveBayes, Opinion
from domain.triage.lexicon import Lexicon
from domain.triage.matching import CueMatcher, HedgeDetector, Scan, Score, Vocabulary, blank
from domain.triage.places import PlaceFinder, TownFinding, build_place_index, resolve_town
from domain.triage.safety import emergency_share, emergency_verdict
from domain.triage.urgency import UrgencyAssessor, UrgencyFinding
from domain.triage.verdict import Verdict, settle
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

    scan: Scan
    guess: CategoryGuess
    category: Category
    appeal_type: Score
    town: TownFinding
    urgency: UrgencyFinding
    verdict: Verdict
    # The model's share on emergency categories when it exceeds the suspicion threshold, else 0.
    suspected_emergency: float = 0.0

    @property
    def confidence(self) -> float:
        return self.verdict.confidence


class Triager:
    """Decides appeals for one jurisdiction; build once, then call `decide` per appeal.

    Indices (place names, cue matchers) are built here so that `decide` only scans text.
    `examples` (labelled appeal texts) train the learned second opinion; without them
    the lexicon decides alone. `boundaries` default to the towns' own polygons.
    """

    def __init__(
        self,
        jurisdiction: Jurisdiction,
        lexicon: Lexicon,
        boundaries: Mapping[str, Sequence[Polygon]] | None = None,
        examples: Iterable[LabelledText] = (),
    ) -> None:
        lexicon.check_against(jurisdiction)
        self._jurisdiction = jurisdiction
        self._lexicon = lexicon
        self._categories = jurisdiction.category_by_code
        index = build_place_index(jurisdiction, lexicon.place_aliases, lexicon.place_stem_suffixes)
        self._places = PlaceFinder(
            index, lexicon.place_noise, lexicon.place_stem_followers, lexicon.place_kept_suffixes
        )
        if boundaries is None:
            boundaries = {town.code: [town.boundary] for town in jurisdiction.towns if town.boundary}
        self._boundaries = dict(boundaries)
        self._category = CategoryClassifier(lexicon)
        self._type = AppealTypeClassifier(lexicon)
        self._urgency = UrgencyAssessor(lexicon)
        self._asks_action = CueMatcher("asks_action", lexicon.instant.asks_action)
        self._no_action = CueMatcher("no_action", lexicon.instant.no_action)
        words = (
            self._category.words()
            | self._type.words()
            | self._urgency.words()
            | self._asks_action.words()
            | self._no_action.words()
        )
        self._vocabulary = Vocabulary(words, HedgeDetector(lexicon.hedges, lexicon.hedge_suffixes))
        self._fallback = next(iter(lexicon.categories))
        known = self._categories.keys()
        # Examples of categories this jurisdiction lacks are dropped, not guessed at.
        self._model = NaiveBayes.train(
            LabelledText(self.topic_text(e.text), e.category) for e in examples if e.category in known
        )

    def topic_text(self, text: str) -> str:
        """The text as classified: place names and framing ("110转来") blanked out."""
        masked = self._places.mask(text, self._places.mentions(text, in_address=False))
        return blank(masked, self._lexicon.text_noise)

    def decide(self, appeal: Appeal) -> TriageDecision:
        """Classify, locate and route one appeal; low confidence goes to a person (manual)."""
        reading = self._read(appeal)
        disposition, route, why = self._dispose(reading)
        manual = disposition == "manual"
        # A manual ticket carries the best guess, so the person starts from it.
        guess = self._jurisdiction.route(reading.category.code, reading.town.town) if manual else None
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
            confidence=round(reading.verdict.confidence, 3),
            explanation=self._explain(reading, why),
            suggestion=self._suggest(reading, guess) if manual else (),
            jurisdiction_version=self._jurisdiction.version,
            suggested_lead=guess.lead if guess else None,
            suggested_co=guess.co if guess else (),
            town_candidates=reading.town.candidates if reading.town.town is None else (),
        )

    def _explain(self, reading: _Reading, why: str) -> tuple[str, ...]:
        return (
            explain.category_line(
                self._jurisdiction, reading.guess.best, reading.guess.runner_up, reading.verdict
            ),
            explain.type_line(reading.appeal_type),
            explain.town_line(self._jurisdiction, reading.town),
            explain.urgency_line(reading.urgency),
            why,
        )

    def _read(self, appeal: Appeal) -> _Reading:
        text = self.topic_text(appeal.text)
        scan = self._vocabulary.scan(text)
        guess = self._category.classify(scan)
        opinion = self._model.opinion(text)
        danger, _ = self._urgency.danger_now(scan)
        verdict = self._settle(guess, opinion, danger)
        appeal_type = self._type.classify(scan, verdict.category)
        # Praise tells of what went well: its danger words are past, not present,
        # so it is filed under the service praised, never under an emergency line.
        calm = self._lexicon.instant.always_types
        if appeal_type.label in calm and self._categories[verdict.category].transfer is not None:
            guess = CategoryGuess(tuple(s for s in guess.ranked if not self._is_transfer(s.label)))
            opinion = Opinion(tuple(p for p in opinion.ranked if not self._is_transfer(p[0])))
            verdict = self._settle(guess, opinion, danger=False)
        category = self._categories[verdict.category]
        mentions = self._places.mentions(appeal.address, in_address=True)
        mentions += self._places.mentions(appeal.text, in_address=False)
        town = resolve_town(mentions, appeal.location, self._boundaries)
        urgency = self._urgency.assess(scan, category, raise_on_signs=appeal_type.label not in calm)
        share = emergency_share(opinion, self._is_transfer)
        suspected = (
            appeal_type.label not in calm
            and category.transfer is None
            and share >= self._lexicon.thresholds.model_emergency_suspect
        )
        if suspected and urgency.urgency == "normal":
            urgency = UrgencyFinding("urgent", ("统计模型疑似紧急警情",), urgency.danger_now)
        return _Reading(
            scan=scan,
            guess=guess,
            category=category,
            appeal_type=appeal_type,
            town=town,
            urgency=urgency,
            verdict=verdict,
            suspected_emergency=share if suspected else 0.0,
        )

    def _settle(self, guess: CategoryGuess, opinion: Opinion, danger: bool) -> Verdict:
        thresholds = self._lexicon.thresholds
        confidence = self._confidence(guess)
        verdict = settle(guess, confidence, opinion, thresholds, self._same_routing, self._fallback)
        return emergency_verdict(verdict, guess, opinion, danger, thresholds.model_rescue, self._is_transfer)

    def _is_transfer(self, code: str) -> bool:
        return self._categories[code].transfer is not None

    def _confidence(self, guess: CategoryGuess) -> float:
        """How sure the category is: enough evidence, and clear of the next category.

        A runner-up that routes exactly like the best one does not count against
        it: confusing 施工噪音 with 违建 matters, confusing two labels for the same
        units does not.
        """
        best = guess.best
        strong = 2 * self._lexicon.thresholds.category_min_score
        sufficiency = min(1.0, best.value / strong) if strong > 0 else 1.0
        if best.decisive:
            # A decisive rule fired: the other topics in the text are context, not rivals.
            return sufficiency
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

    def _dispose(self, reading: _Reading) -> tuple[Disposition, Route | None, str]:
        """Transfer, instant, dispatch or manual — and the sentence that says why."""
        category = reading.category
        # Praise tells of help already given ("中风了，他们送她去医院"): nothing to transfer.
        praise = reading.appeal_type.label in self._lexicon.instant.always_types
        # A transfer needs the category and either a sign of danger now or strong
        # evidence: one word like 大口子 (a crack in a road) must not send an ambulance.
        # An emergency category without such a sign goes to a person, still as an emergency.
        evidence = next((s.value for s in reading.guess.ranked if s.label == category.code), 0.0)
        strong = evidence >= self._lexicon.thresholds.transfer_min_score
        if (
            not praise
            and category.transfer is not None
            and (reading.urgency.danger_now or (strong and reading.verdict.confident))
        ):
            return "transfer", None, f"处置：转{category.transfer}（{category.name}，紧急警情不派单）"
        if category.transfer is not None and not praise:
            return "manual", None, "处置：转人工（疑似紧急警情，但未见明确的现场危险表述，请立即核实）"
        if reading.suspected_emergency:
            # Never an ordinary work order for what may be an emergency: a person checks it now.
            share = reading.suspected_emergency
            return "manual", None, f"处置：转人工（统计模型认为可能是紧急警情（{share:.2f}），请立即核实）"
        if self._is_instant(reading):
            return "instant", None, "处置：热线即办（无需承办单位办理）"
        if not self._confident(reading):
            floor = self._lexicon.thresholds.confidence_floor
            why = reading.verdict.note or f"分类置信度{reading.confidence:.2f}低于{floor:g}"
            return "manual", None, f"处置：转人工（{why}）"
        route = self._jurisdiction.route(category.code, reading.town.town)
        if route is None:
            return "manual", None, "处置：转人工（该分类须派属地，但属地未能确定）"
        return "dispatch", route, explain.route_line(self._jurisdiction, route.lead, route.co)

    def _confident(self, reading: _Reading) -> bool:
        return reading.verdict.confident

    def _is_instant(self, reading: _Reading) -> bool:
        rules = self._lexicon.instant
        appeal_type = reading.appeal_type.label
        if appeal_type in rules.always_types:
            return True
        min_score = self._lexicon.thresholds.action_min_score
        if appeal_type in rules.no_action_types and self._no_action.score(reading.scan).value >= min_score:
            return True
        asks = self._asks_action.score(reading.scan).value >= min_score
        return reading.category.instant and not asks and self._confident(reading)

    def _suggest(self, reading: _Reading, route: Route | None) -> tuple[str, ...]:
        """The best guess for the person who dispatches by hand, in Chinese."""
        if reading.guess.best.value <= 0:
            return ("建议分类：无（未命中任何分类词语，请人工判断分类与属地）",)
        lines = [f"建议分类：{reading.category.name}（{reading.category.code}）"]
        lines += [
            f"备选分类：{self._categories[other.label].name}（{other.label}）"
            for other in reading.guess.ranked[1:3]
            if other.value > 0
        ]
        if reading.town.town is None and reading.town.candidates:
            towns = "、".join(self._jurisdiction.unit_name(code) for code in reading.town.candidates)
            lines.append(f"候选属地：{towns}")
        if route is not None:
            lines.append("建议" + explain.route_line(self._jurisdiction, route.lead, route.co))
        else:
            template = reading.category.route_for(None)
            co = f"，{'、'.join(template.co)}协办" if template.co else ""
            lines.append(f"路由表：{template.lead}牵头{co}（town 为属地，待人工确定）")
        return tuple(lines)
