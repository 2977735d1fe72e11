"""The lexicon's reading weighed with the learned model's, behind a gate calibrated on held-out appeals."""

from __future__ import annotations

import functools
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from domain.jurisdiction import parse_jurisdiction
from domain.triage import Triager, parse_lexicon
from domain.triage.classify import CategoryGuess
from domain.triage.gate import Outcome, calibrate, folds
from domain.triage.learned import LabelledText, NaiveBayes, Opinion
from domain.triage.matching import Score
from domain.triage.safety import suspected_emergency
from domain.triage.verdict import Verdict, settle, top_alternatives, weigh
from schemas.appeal import Appeal

DATA = Path(__file__).resolve().parents[2] / "data" / "jurisdiction"
# noise.construction and noise.industrial route to different units.
GUESS = CategoryGuess((Score("noise.construction", 3.0, ("施工",)), Score("noise.industrial", 1.0, ("厂",))))


def same_routing(a: str, b: str) -> bool:
    return a == b


def opinion(best: str, probability: float) -> Opinion:
    other = "noise.construction" if best != "noise.construction" else "noise.industrial"
    return Opinion(((best, probability), (other, 1 - probability)))


def test_each_category_scores_its_lexicon_points_plus_the_log_of_the_models_probability() -> None:
    weighed = dict(weigh(GUESS, opinion("noise.industrial", 0.8), lexicon_weight=1.0))
    # construction: 3 + ln 0.2; industrial: 1 + ln 0.8; softmax of the two.
    construction = math.exp(3 + math.log(0.2))
    industrial = math.exp(1 + math.log(0.8))
    assert weighed["noise.construction"] == pytest.approx(construction / (construction + industrial))
    assert weighed["noise.industrial"] == pytest.approx(industrial / (construction + industrial))


@pytest.mark.parametrize(
    ("model", "probability", "gate", "category", "confident"),
    [
        ("noise.construction", 0.9, 0.9, "noise.construction", True),
        ("noise.industrial", 0.6, 0.6, "noise.construction", True),
        ("noise.industrial", 0.6, 0.9, "noise.construction", False),
        ("noise.industrial", 0.99, 0.5, "noise.industrial", True),
    ],
    ids=[
        "both_readers_agree_dispatch",
        "model_leans_elsewhere_the_lexicon_still_carries_a_low_gate",
        "model_leans_elsewhere_below_a_high_gate_manual",
        "model_very_sure_outweighs_a_thin_lexicon_lead",
    ],
)
def test_the_weighed_category_is_dispatched_only_when_its_confidence_clears_the_gate(
    model: str, probability: float, gate: float, category: str, confident: bool
) -> None:
    verdict = settle(GUESS, opinion(model, probability), 1.0, gate, same_routing)
    assert (verdict.category, verdict.confident) == (category, confident)


def test_categories_routed_alike_pool_their_share_of_the_confidence() -> None:
    alike = settle(GUESS, opinion("noise.industrial", 0.6), 1.0, 0.99, lambda a, b: True)
    assert (alike.category, alike.confidence, alike.confident) == ("noise.construction", 1.0, True)


def test_a_decisive_rule_names_the_category_whatever_the_model_says() -> None:
    decisive = CategoryGuess((Score("govt.conduct", 4.0, ("公职人员索取",), decisive=True),))
    verdict = settle(decisive, opinion("vendor.street", 0.999), 1.0, 0.5, same_routing)
    assert verdict.category == "govt.conduct"
    assert verdict.note.startswith("统计模型倾向vendor.street（1.00），综合把握")


def test_the_emergency_share_sums_every_emergency_category() -> None:
    split = Verdict(
        "utility.water",
        False,
        0.88,
        ranked=(("utility.water", 0.88), ("emergency.police", 0.06), ("emergency.medical", 0.06)),
    )
    assert split.share(lambda code: code.startswith("emergency.")) == pytest.approx(0.12)


def test_the_models_opinion_does_not_grow_surer_with_a_longer_text() -> None:
    model = NaiveBayes.train([("停水没水", "utility.water"), ("停电没电", "utility.power")])
    short = model.opinion("停水", sharpness=4.0)
    long = model.opinion("停水停水停水，没水没水。停水。", sharpness=4.0)
    assert short.best == long.best == "utility.water"
    assert long.probability == pytest.approx(short.probability, abs=0.05)


# (confidence, right) per held-out dispatch; the gate is the lowest confidence keeping ≥ 95% right.
@pytest.mark.parametrize(
    ("outcomes", "threshold"),
    [
        ([(0.9, True)] * 9 + [(0.5, False)], 0.9),
        ([(0.9, True)] * 9 + [(0.8, True), (0.5, False)], 0.8),
        ([(0.9, True)] * 18 + [(0.5, False), (0.4, True), (0.3, True), (0.1, False)], 0.3),
        ([(0.9, False), (0.8, False)], 1.01),
        ([(0.7, True), (0.7, False), (0.7, True)], 1.01),
        ([(0.9, True), (0.6, True)], 0.2),
    ],
    ids=["cuts_below_the_first_miss", "keeps_a_right_one_above_it", "may_take_a_miss_if_enough_follow",
         "nothing_good_enough_nothing_clears", "ties_stay_together", "all_right_down_to_the_floor"],
)  # fmt: skip
def test_the_gate_is_the_lowest_confidence_whose_dispatches_were_right_often_enough(
    outcomes: list[tuple[float, bool]], threshold: float
) -> None:
    gate = calibrate([Outcome(c, r) for c, r in outcomes], precision=0.95, floor=0.2)
    assert gate.threshold == threshold
    assert gate.measured_on == len(outcomes)


def test_the_gate_never_drops_below_the_lexicons_floor() -> None:
    gate = calibrate([Outcome(0.3, True)] * 3 + [Outcome(0.2, False)], precision=0.7, floor=0.45)
    assert (gate.threshold, gate.precision, gate.coverage) == (0.45, 0.0, 0.0)


def test_the_gate_is_calibrated_one_author_at_a_time_when_the_examples_say_who_wrote_them() -> None:
    examples = [LabelledText(f"t{i}", "c", None, source) for i, source in enumerate("aabbbc")]
    split = folds(examples)
    assert [sorted({e.source for e in held}) for _, held in split] == [["a"], ["b"], ["c"]]
    assert all(not {e.source for e in taught} & {e.source for e in held} for taught, held in split)


def test_examples_of_one_unnamed_source_are_dealt_into_five_folds() -> None:
    split = folds([LabelledText(f"t{i}", "c") for i in range(10)])
    assert [len(held) for _, held in split] == [2, 2, 2, 2, 2]
    assert all(len(taught) == 8 for taught, _ in split)


@functools.cache
def triager_taught_an_unknown_danger() -> Triager:
    """A triager whose model learned a danger phrase the lexicon has never heard of."""
    jurisdiction = parse_jurisdiction(
        yaml.safe_load((DATA / "sample-county.yaml").read_text(encoding="utf-8"))
    )
    lexicon = parse_lexicon(yaml.safe_load((DATA / "sample-county.lexicon.yaml").read_text(encoding="utf-8")))
    examples = [
        LabelledText(f"咕咚嘎嘣哎哟喂呀呀哼哼唧唧嗯嗯啊啊第{i}回", "emergency.medical") for i in range(20)
    ]
    examples += [LabelledText(f"晚上工地施工噪音太吵第{i}回", "noise.construction") for i in range(20)]
    examples += [LabelledText(f"下水道堵塞第{i}回", "drainage.sewer", "complaint") for i in range(20)]
    return Triager(jurisdiction, lexicon, examples=examples)


def sewer_appeal(extra: str) -> Appeal:
    return Appeal(
        channel="phone",
        source_id="v-1",
        received_at=datetime(2026, 3, 2, 1, 0, tzinfo=UTC),
        text=f"白马桥街道凤凰城小区门口下水道堵塞，污水外溢。{extra}",
    )


def test_an_appeal_the_model_reads_as_an_emergency_goes_to_a_person_as_one_not_to_a_unit() -> None:
    routine = triager_taught_an_unknown_danger().decide(sewer_appeal(""))
    assert (routine.disposition, routine.urgency, routine.lead) == ("dispatch", "normal", "zjj")
    decision = triager_taught_an_unknown_danger().decide(sewer_appeal("咕咚嘎嘣哎哟喂呀呀哼哼唧唧嗯嗯啊啊。"))
    assert (decision.category, decision.disposition, decision.urgency) == (
        "emergency.medical",
        "manual",
        "emergency",
    )
    assert decision.explanation[0].startswith(
        "分类：急救（emergency.medical），词表首选下水道堵塞污水外溢；统计模型"
    )
    assert decision.explanation[4] == "处置：转人工（疑似紧急警情，但未见明确的现场危险表述，请立即核实）"
    assert "备选分类：下水道堵塞污水外溢（drainage.sewer）" in decision.suggestion


def test_a_routine_reading_with_a_fair_share_on_the_emergency_lines_goes_to_a_person_urgent() -> None:
    decision = triager_taught_an_unknown_danger().decide(sewer_appeal("咕咚嘎嘣哎哟喂。"))
    assert (decision.category, decision.disposition, decision.urgency) == (
        "drainage.sewer",
        "manual",
        "urgent",
    )
    assert decision.explanation[3].startswith("紧急程度：紧急（从严：综合判断可能是紧急警情（")
    assert decision.explanation[3].endswith("，按紧急处理），把握0.50")
    assert decision.explanation[4].startswith("处置：转人工（综合判断可能是紧急警情（")
    assert decision.suggested_lead == "zjj"


def test_a_confident_routine_reading_with_danger_now_and_emergency_words_goes_to_a_person() -> None:
    # A fight outside a mahjong parlour is no noise complaint, however the model reads the parlour.
    decision = triager_taught_an_unknown_danger().decide(
        sewer_appeal("门口两伙人拿着钢管互相打，已经有人倒在地上了。")
    )
    assert decision.disposition in {"manual", "transfer"}
    assert decision.urgency in {"urgent", "emergency"}
    assert decision.lead is None


def test_the_model_also_reads_the_appeal_type_and_the_explanation_says_so() -> None:
    # The lexicon hears no type in the text and the sewer's usual type is help; the model learned complaint.
    decision = triager_taught_an_unknown_danger().decide(sewer_appeal(""))
    assert decision.appeal_type == "complaint"
    assert (
        decision.explanation[1]
        == "诉求类型：投诉（未见明确表述，统计模型1.00，参考该分类常见类型，把握1.00）"
    )
    assert decision.explanation[0].endswith(f"综合把握{decision.confidence:.2f}")


def is_transfer(code: str) -> bool:
    return code.startswith("emergency.")


def lift_reading(confident: bool, police_points: float, first: str = "equipment.elevator") -> str:
    """Why a lift appeal with danger signs now may be an emergency, at a given category confidence."""
    scores = {"equipment.elevator": 3.0, "emergency.police": police_points}
    ranked = sorted(scores.items(), key=lambda item: (item[0] != first, -item[1]))
    guess = CategoryGuess(tuple(Score(code, value, ("关人",)) for code, value in ranked))
    confidence = 0.99 if confident else 0.6
    verdict = Verdict("equipment.elevator", confident, confidence, "", (("equipment.elevator", 1.0),))
    return suspected_emergency(verdict, guess, True, is_transfer, 0.1, 2.0, 4.0)


def test_danger_now_with_emergency_words_goes_to_a_person_unless_the_category_cleared_the_gate() -> None:
    assert lift_reading(confident=False, police_points=3.0).startswith("文中有现场危险表述")
    # A sure lift reading is the lift unit's urgent work: 3 points of 110 words are not enough ...
    assert lift_reading(confident=True, police_points=3.0) == ""
    # ... but words as strong as a 110 call's still send it to a person.
    assert lift_reading(confident=True, police_points=4.5).startswith("文中有现场危险表述")


def test_the_lexicons_first_choice_of_an_emergency_line_is_never_outvoted_silently() -> None:
    reason = lift_reading(confident=True, police_points=3.5, first="emergency.police")
    assert reason == "词表首选紧急警情，命中关人"


def test_a_person_is_offered_the_lexicons_reading_when_the_weighed_one_won() -> None:
    weighed = (("noise.industrial", 0.99), ("noise.social", 0.01))
    verdict = Verdict("noise.industrial", False, 0.9, "", weighed)
    assert top_alternatives(verdict, GUESS, 2) == ["noise.construction"]
    weighed_agreed = (("noise.construction", 0.9), ("noise.social", 0.1))
    agreed = Verdict("noise.construction", False, 0.9, "", weighed_agreed)
    assert top_alternatives(agreed, GUESS, 2) == ["noise.social"]
