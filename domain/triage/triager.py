"""The triage brain: appeal + jurisdiction + lexicon → decision, with its reasons."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from domain.desk.decision import honour
from domain.jurisdiction import Category, Jurisdiction, Route
from domain.triage import explain
from domain.triage.classify import AppealTypeClassifier, CategoryClassifier, CategoryGuess, TypeReading
from domain.triage.gate import Gate, Outcome, calibrate, folds
from domain.triage.geometry import Polygon
from domain.triage.learned import NGRAM_LONGEST, LabelledText, NaiveBayes, Opinion, ngrams
from domain.triage.lexicon import Lexicon
from domain.triage.matching import CueMatcher, HedgeDetector, Scan, Score, Vocabulary, blank
from domain.triage.normalisation import TextNormaliser
from domain.triage.places import Mention, PlaceFinder, TownFinding, build_place_index, resolve_town
from domain.triage.problems import opens_another_matter, parts, second_problem
from domain.triage.safety import emergency_verdict, suspected_emergency
from domain.triage.urgency import UrgencyAssessor, UrgencyFinding
from domain.triage.verdict import Verdict, lexicon_verdict, settle, top_alternatives
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
    appeal_type: TypeReading
    town: TownFinding
    urgency: UrgencyFinding
    verdict: Verdict
    # Why a routine reading may be an emergency after all ('' when nothing suggests it).
    suspected_emergency: str = ""
    # Another problem raised in the same appeal, to split off (None when there is one).
    second: Score | None = None

    @property
    def confidence(self) -> float:
        return self.verdict.confidence


class Triager:
    """Decides appeals for one jurisdiction; build once, then call `decide` per appeal.

    Indices (place names, cue matchers) are built here so that `decide` only scans text.
    `examples` (labelled appeal texts) train the learned models of category and appeal
    type and calibrate the auto-dispatch gate; without them the lexicon decides alone.
    `boundaries` default to the towns' own polygons.
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
        self._normaliser = TextNormaliser(lexicon.spoken_forms)
        self._routing_known: dict[tuple[str, str], bool] = {}
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
        taught = self._taught(examples)
        grams = {e.text: ngrams(e.text, NGRAM_LONGEST) for e in taught}
        self._model = NaiveBayes.train_on_grams((grams[e.text], e.category) for e in taught)
        self._type_model = NaiveBayes.train_on_grams(
            (grams[e.text], e.appeal_type) for e in taught if e.appeal_type
        )
        # Urgency as the labelled appeals had it: a third reader that may raise, never lower.
        self._urgency_model = NaiveBayes.train_on_grams(
            (grams[e.text], _raised(e.urgency)) for e in taught if e.urgency
        )
        self._gate = self._calibrate(taught, grams)

    def _taught(self, examples: Iterable[LabelledText]) -> list[LabelledText]:
        """The examples as the models read them; labels this jurisdiction lacks are dropped, not guessed."""
        types = {t.code for t in self._jurisdiction.appeal_types}
        return [
            LabelledText(
                self.topic_text(e.text), e.category, _known(e.appeal_type, types), e.source, e.urgency
            )
            for e in examples
            if e.category in self._categories
        ]

    def _calibrate(self, taught: list[LabelledText], grams: Mapping[str, frozenset[str]]) -> Gate:
        """The auto-dispatch gate, from held-out readings of the examples (see `gate.py`)."""
        thresholds = self._lexicon.thresholds
        outcomes: list[Outcome] = []
        for training, held_out in folds(taught) if taught else []:
            model = NaiveBayes.train_on_grams((grams[e.text], e.category) for e in training)
            for example in held_out:
                category = self._categories[example.category]
                if category.transfer is not None or category.instant:
                    continue  # never dispatched, so never behind the gate
                guess = self._category.classify(self._vocabulary.scan(example.text))
                opinion = model.opinion(example.text, thresholds.model_sharpness)
                verdict = settle(guess, opinion, thresholds.lexicon_weight, 0.0, self._same_routing)
                right = self._same_routing(verdict.category, category.code)
                outcomes.append(Outcome(verdict.confidence, right))
        if not outcomes:
            return Gate(thresholds.confidence_floor)
        return calibrate(outcomes, thresholds.auto_dispatch_precision, thresholds.confidence_floor)

    @property
    def gate(self) -> Gate:
        """The confidence an auto-dispatch needs, and what calibration measured it to give."""
        return self._gate

    def topic_text(self, text: str) -> str:
        """The text as classified: normalised, place names and framing ("110转来") blanked out."""
        return self._topic(self._normaliser.normalise(text))

    def _topic(self, text: str, mentions: Sequence[Mention] | None = None) -> str:
        """`mentions`: the places in `text`, when already found."""
        if mentions is None:
            mentions = self._places.mentions(text, in_address=False)
        return blank(self._places.mask(text, mentions), self._lexicon.text_noise)

    def decide(self, appeal: Appeal) -> TriageDecision:
        """Classify, locate and route one appeal; low confidence goes to a person (manual).

        An appeal taken at the desk carries the operator's decision, which this one yields to.
        """
        decision = self._decide(appeal)
        return decision if appeal.desk is None else honour(decision, appeal.desk, self._jurisdiction)

    def _decide(self, appeal: Appeal) -> TriageDecision:
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
            explanation=self._explain(reading, why, appeal.confidential),
            suggestion=self._suggest(reading, guess) if manual else (),
            jurisdiction_version=self._jurisdiction.version,
            suggested_lead=guess.lead if guess else None,
            suggested_co=guess.co if guess else (),
            town_candidates=reading.town.candidates if reading.town.town is None else (),
            type_confidence=round(reading.appeal_type.confidence, 3),
            caller_withheld=appeal.confidential
            or reading.appeal_type.label == "report"
            or bool(reading.appeal_type.doubt),
            second_category=reading.second.label if reading.second is not None else None,
        )

    def _explain(self, reading: _Reading, why: str, declared: bool) -> tuple[str, ...]:
        lines = [
            explain.category_line(
                self._jurisdiction, reading.guess.best, reading.guess.runner_up, reading.verdict
            ),
            explain.type_line(reading.appeal_type),
            explain.town_line(self._jurisdiction, reading.town),
            explain.urgency_line(reading.urgency),
            why,
        ]
        caller = explain.caller_line(reading.appeal_type, declared)
        if caller is not None:
            lines.append(caller)
        if reading.second is not None:
            lines.append(explain.second_line(self._jurisdiction, reading.second))
        return tuple(lines)

    def _read(self, appeal: Appeal) -> _Reading:
        plain = self._normaliser.normalise(appeal.text)
        told = self._places.mentions(plain, in_address=False)
        text = self._topic(plain, told)
        scan = self._vocabulary.scan(text)
        guess = self._category.classify(scan)
        thresholds = self._lexicon.thresholds
        opinion = self._model.opinion(text, thresholds.model_sharpness)
        danger, _ = self._urgency.danger_now(scan)
        verdict = self._settle(guess, opinion, danger)
        types = self._type_model.opinion(text, thresholds.type_model_sharpness)
        appeal_type = self._type.classify(scan, verdict.category, types)
        # Praise tells of what went well: its danger words are past, not present,
        # so it is filed under the service praised, never under an emergency line.
        calm = self._lexicon.instant.always_types
        if appeal_type.label in calm and self._categories[verdict.category].transfer is not None:
            guess = CategoryGuess(tuple(s for s in guess.ranked if not self._is_transfer(s.label)))
            opinion = Opinion(tuple(p for p in opinion.ranked if not self._is_transfer(p[0])))
            verdict = self._settle(guess, opinion, danger=False)
            appeal_type = self._type.classify(scan, verdict.category, types)
        if appeal_type.label not in calm:
            appeal_type = self._type.with_report_doubt(appeal_type)
        category = self._categories[verdict.category]
        mentions = self._places.mentions(self._normaliser.normalise(appeal.address), in_address=True)
        mentions += told
        town = resolve_town(mentions, appeal.location, self._boundaries)
        routine = appeal_type.label not in calm
        urgency, suspected = self._urgency_of(text, scan, category, verdict, guess, routine)
        second = self._second_problem(text, guess, category) if routine else None
        return _Reading(
            scan=scan,
            guess=guess,
            category=category,
            appeal_type=appeal_type,
            town=town,
            urgency=urgency,
            verdict=verdict,
            suspected_emergency=suspected,
            second=second,
        )

    def _settle(self, guess: CategoryGuess, opinion: Opinion, danger: bool) -> Verdict:
        thresholds = self._lexicon.thresholds
        gate = self._gate.threshold
        if opinion.best is None:
            verdict = lexicon_verdict(guess, thresholds.category_min_score, gate, self._same_routing)
        else:
            verdict = settle(guess, opinion, thresholds.lexicon_weight, gate, self._same_routing)
        return emergency_verdict(verdict, guess, danger, self._is_transfer)

    def _urgency_of(
        self, text: str, scan: Scan, category: Category, verdict: Verdict, guess: CategoryGuess, routine: bool
    ) -> tuple[UrgencyFinding, str]:
        """The urgency, and why a routine reading may be an emergency ('' when nothing suggests it).

        Praise (`routine=False`) keeps the category default. Otherwise the lexicon's signs
        decide; short of them, the urgency model, then the emergency safety net, may raise
        a normal appeal to urgent from caution, and the finding says so.
        """
        urgency = self._urgency.assess(scan, category, raise_on_signs=routine)
        if not routine or category.transfer is not None:
            return urgency, ""
        thresholds = self._lexicon.thresholds
        suspected = suspected_emergency(
            verdict,
            guess,
            urgency.danger_now,
            self._is_transfer,
            thresholds.model_emergency_suspect,
            thresholds.emergency_hint_min_score,
            thresholds.emergency_hint_sure_min_score,
        )
        if urgency.urgency != "normal":
            return urgency, suspected
        if suspected:
            return UrgencyFinding("urgent", ("疑似紧急警情",), urgency.danger_now, 0.5, suspected), suspected
        return self._learned_urgency(text, urgency), suspected

    def _second_problem(self, text: str, guess: CategoryGuess, category: Category) -> Score | None:
        """Another problem told in the same appeal, for a person to split off (see `problems.py`)."""
        if category.transfer is not None or category.instant:
            return None
        separate = partial(self._separate, taken=category.code)
        line = self._lexicon.thresholds.category_min_score
        found = second_problem(text, category.code, guess, self._vocabulary, self._category, line, separate)
        if opens_another_matter(text):
            return found or self._second_by_reading(text, separate)
        # Told without a word that opens another matter: only a clearly separate one counts.
        unmarked = self._lexicon.thresholds.second_unmarked_min_score
        return found if found is not None and found.value >= unmarked else None

    def _second_by_reading(self, text: str, separate: Callable[[str], bool]) -> Score | None:
        """A part of the text that reads, by lexicon and model together, as a problem routed elsewhere.

        For what the cue words alone miss: a second matter told in other words
        ("收摊以后菜叶、塑料袋丢得满地都是"). The part must be long enough to tell a
        matter of its own and its reading sure enough (`second_reading_min`).
        """
        thresholds = self._lexicon.thresholds
        best: Score | None = None
        for piece in parts(text):
            if len(piece) < thresholds.second_part_min_length:
                continue
            scan = self._vocabulary.scan(piece)
            guess = self._category.classify(scan)
            verdict = settle(
                guess,
                self._model.opinion(piece, thresholds.model_sharpness),
                thresholds.lexicon_weight,
                0.0,
                self._same_routing,
            )
            if verdict.confidence < thresholds.second_reading_min or not separate(verdict.category):
                continue
            hits = next((s.hits for s in guess.ranked if s.label == verdict.category), ())
            if best is None or verdict.confidence > best.value:
                best = Score(verdict.category, verdict.confidence, hits)
        return best

    def _learned_urgency(self, text: str, finding: UrgencyFinding) -> UrgencyFinding:
        """The finding, raised from caution when the urgency model reads the text as urgent."""
        opinion = self._urgency_model.opinion(text, self._lexicon.thresholds.urgency_model_sharpness)
        share = opinion.of("raised")
        if share < self._lexicon.thresholds.urgency_model_raise:
            return finding
        return UrgencyFinding("urgent", finding.signs, False, share, f"统计模型判为紧急（{share:.2f}）")

    def _separate(self, code: str, *, taken: str) -> bool:
        """Whether `code` would be a ticket of its own beside `taken`: a unit's work, routed elsewhere."""
        category = self._categories[code]
        return category.transfer is None and not category.instant and not self._same_routing(code, taken)

    def _is_transfer(self, code: str) -> bool:
        return self._categories[code].transfer is not None

    def _same_routing(self, a: str, b: str) -> bool:
        # Asked for many pairs on every appeal; the answer never changes for a built triager.
        known = self._routing_known.get((a, b))
        if known is None:
            first, second = self._categories[a], self._categories[b]
            known = (
                first.route_for("urban") == second.route_for("urban")
                and first.route_for("rural") == second.route_for("rural")
                and (first.transfer, first.instant) == (second.transfer, second.instant)
            )
            self._routing_known[(a, b)] = known
        return known

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
            return "manual", None, f"处置：转人工（{reading.suspected_emergency}，请立即核实）"
        if self._is_instant(reading):
            return "instant", None, "处置：热线即办（无需承办单位办理）"
        if not self._confident(reading):
            gate = self._gate.threshold
            why = f"分类把握{reading.confidence:.2f}低于自动派单门槛{gate:.2f}"
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
        if reading.guess.best.value <= 0 and not reading.verdict.ranked:
            return ("建议分类：无（未命中任何分类词语，请人工判断分类与属地）",)
        lines = [f"建议分类：{reading.category.name}（{reading.category.code}）"]
        lines += [
            f"备选分类：{self._categories[other].name}（{other}）"
            for other in top_alternatives(reading.verdict, reading.guess, 2)
        ]
        if reading.town.town is None and reading.town.candidates:
            towns = "、".join(self._jurisdiction.unit_name(code) for code in reading.town.candidates)
            lines.append(f"候选属地：{towns}")
        if reading.second is not None:
            lines.append(explain.second_line(self._jurisdiction, reading.second))
        if route is not None:
            lines.append("建议" + explain.route_line(self._jurisdiction, route.lead, route.co))
        else:
            template = reading.category.route_for(None)
            co = f"，{'、'.join(template.co)}协办" if template.co else ""
            lines.append(f"路由表：{template.lead}牵头{co}（town 为属地，待人工确定）")
        return tuple(lines)


def _raised(urgency: str | None) -> str:
    return "normal" if urgency == "normal" else "raised"


def _known(label: str | None, labels: set[str]) -> str | None:
    return label if label in labels else None
