"""The lexicon's reading checked against the learned model's: when two readers disagree, a person decides."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from domain.jurisdiction import parse_jurisdiction
from domain.triage import Triager, parse_lexicon
from domain.triage.classify import CategoryGuess
from domain.triage.learned import LabelledText, Opinion
from domain.triage.lexicon import Thresholds
from domain.triage.matching import Score
from domain.triage.safety import emergency_share
from domain.triage.verdict import settle
from schemas.appeal import Appeal

DATA = Path(__file__).resolve().parents[2] / "data" / "jurisdiction"
THRESHOLDS = Thresholds(confidence_floor=0.45, model_veto=0.5, model_veto_below=0.7, model_rescue=0.999)
# noise.construction and noise.industrial route to different units; the two sewer labels do not matter here.
GUESS = CategoryGuess((Score("noise.construction", 6.0, ("施工",)), Score("noise.industrial", 2.0, ("厂",))))


def same_routing(a: str, b: str) -> bool:
    return a == b


def opinion(best: str, probability: float) -> Opinion:
    other = "noise.construction" if best != "noise.construction" else "noise.industrial"
    return Opinion(((best, probability), (other, 1 - probability)))


@pytest.mark.parametrize(
    ("lexicon_confidence", "model", "probability", "confident", "note"),
    [
        (0.6, "noise.construction", 0.9, True, "统计模型同意"),
        (0.6, "noise.industrial", 0.4, True, ""),
        (0.6, "noise.industrial", 0.6, False, "统计模型判为noise.industrial（0.60），与词表不一致"),
        (0.8, "noise.industrial", 0.99, True, ""),
    ],
    ids=[
        "model_agrees_dispatch",
        "model_leans_elsewhere_but_below_even_odds_dispatch",
        "model_more_likely_than_not_elsewhere_and_lexicon_not_clearly_sure_manual",
        "lexicon_clearly_sure_keeps_its_reading",
    ],
)
def test_a_model_that_routes_elsewhere_stops_an_unsure_auto_dispatch(
    lexicon_confidence: float, model: str, probability: float, confident: bool, note: str
) -> None:
    verdict = settle(GUESS, lexicon_confidence, opinion(model, probability), THRESHOLDS, same_routing, "x")
    assert (verdict.category, verdict.confident, verdict.note) == ("noise.construction", confident, note)


def test_the_veto_needs_no_lexicon_evidence_for_the_models_category() -> None:
    # It only ever sends to a person, so the model's unbacked doubt is enough for that.
    guess = CategoryGuess((Score("noise.construction", 6.0, ("施工",)),))
    verdict = settle(guess, 0.6, opinion("utility.power", 0.7), THRESHOLDS, same_routing, "x")
    assert (verdict.category, verdict.confident) == ("noise.construction", False)


def test_the_emergency_share_sums_every_emergency_category() -> None:
    split = Opinion((("emergency.police", 0.06), ("utility.water", 0.88), ("emergency.medical", 0.06)))
    assert emergency_share(split, lambda code: code.startswith("emergency.")) == pytest.approx(0.12)


@functools.cache
def triager_taught_an_unknown_danger() -> Triager:
    """A triager whose model learned a danger phrase the lexicon has never heard of."""
    jurisdiction = parse_jurisdiction(
        yaml.safe_load((DATA / "sample-county.yaml").read_text(encoding="utf-8"))
    )
    lexicon = parse_lexicon(yaml.safe_load((DATA / "sample-county.lexicon.yaml").read_text(encoding="utf-8")))
    examples = [LabelledText(f"隔壁嗷嗷叫唤呜呜哎哟喂呀呀第{i}回", "emergency.medical") for i in range(20)]
    examples += [LabelledText(f"晚上工地施工噪音太吵第{i}回", "noise.construction") for i in range(20)]
    examples += [LabelledText(f"下水道堵塞第{i}回", "drainage.sewer") for i in range(20)]
    return Triager(jurisdiction, lexicon, examples=examples)


def sewer_appeal(extra: str) -> Appeal:
    return Appeal(
        channel="phone",
        source_id="v-1",
        received_at=datetime(2026, 3, 2, 1, 0, tzinfo=UTC),
        text=f"白马桥街道凤凰城小区门口下水道堵塞，污水外溢。{extra}",
    )


def test_an_appeal_the_model_reads_as_an_emergency_goes_to_a_person_urgent_not_to_a_unit() -> None:
    routine = triager_taught_an_unknown_danger().decide(sewer_appeal(""))
    assert (routine.disposition, routine.urgency, routine.lead) == ("dispatch", "normal", "zjj")
    decision = triager_taught_an_unknown_danger().decide(sewer_appeal("隔壁嗷嗷叫唤呜呜哎哟喂呀呀。"))
    assert (decision.disposition, decision.urgency, decision.lead) == ("manual", "urgent", None)
    assert decision.explanation[3] == "紧急程度：紧急，依据“统计模型疑似紧急警情”"
    assert decision.explanation[4].startswith("处置：转人工（统计模型认为可能是紧急警情（")
    assert decision.suggested_lead == "zjj"
