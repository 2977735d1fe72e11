"""The lexicon as data: parsing, clear errors, and how cues, rules, gates and hedges score text."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

from domain.jurisdiction import parse_jurisdiction
from domain.triage import LexiconError, Triager, parse_lexicon
from domain.triage.lexicon import Cues
from domain.triage.matching import CueMatcher, HedgeDetector, Vocabulary

DATA = Path(__file__).resolve().parents[2] / "data" / "jurisdiction"
HEDGES = HedgeDetector(["担心", "暂无", "没有"], ["隐患"])


def score(cues: Mapping[str, object], text: str) -> tuple[float, tuple[str, ...]]:
    parsed = Cues.model_validate(cues)
    matcher = CueMatcher("x", parsed)
    result = matcher.score(Vocabulary(matcher.words(), HEDGES).scan(text))
    return result.value, result.hits


def test_the_shipped_lexicon_parses_and_fits_the_shipped_jurisdiction() -> None:
    jurisdiction = parse_jurisdiction(
        yaml.safe_load((DATA / "sample-county.yaml").read_text(encoding="utf-8"))
    )
    lexicon = parse_lexicon(yaml.safe_load((DATA / "sample-county.lexicon.yaml").read_text(encoding="utf-8")))
    Triager(jurisdiction, lexicon)
    assert lexicon.version == "2026.1"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must hold a mapping"),
        ({"appeal_types": {}}, "categories"),
        ({"categories": {"x": {"words": {"词": "heavy"}}}, "appeal_types": {}}, "words"),
        ({"categories": {"x": {"rules": [{"groups": []}]}}, "appeal_types": {}}, "groups"),
        ({"categories": {"x": {"wordz": {}}}, "appeal_types": {}}, "wordz"),
    ],
    ids=[
        "not_a_mapping",
        "no_categories",
        "a_weight_that_is_not_a_number",
        "an_empty_rule",
        "a_misspelt_key",
    ],
)
def test_an_invalid_lexicon_is_rejected_with_a_clear_error(data: object, message: str) -> None:
    with pytest.raises(LexiconError, match=message):
        parse_lexicon(data)


def test_a_lexicon_naming_a_category_the_jurisdiction_lacks_is_rejected() -> None:
    jurisdiction = parse_jurisdiction(
        yaml.safe_load((DATA / "sample-county.yaml").read_text(encoding="utf-8"))
    )
    lexicon = parse_lexicon({"categories": {"noise.aliens": {"words": ["飞碟"]}}, "appeal_types": {}})
    with pytest.raises(ValueError, match=r"unknown categories \['noise.aliens'\]"):
        Triager(jurisdiction, lexicon)


def test_a_list_of_words_weighs_one_each() -> None:
    assert score({"words": ["停水", "没水"]}, "停水了，家里没水") == (2.0, ("停水", "没水"))


def test_a_word_inside_a_longer_word_already_counted_is_not_paid_twice() -> None:
    assert score({"words": {"夜间施工": 3, "施工": 2}}, "工地夜间施工") == (3.0, ("夜间施工",))


def test_a_zero_weight_phrase_shadows_the_word_inside_it() -> None:
    assert score({"words": {"学校": 2, "学校门口": 0}}, "学校门口有人摆摊") == (0.0, ("学校门口",))


def test_a_rule_fires_only_when_every_group_has_a_word() -> None:
    rule = {"rules": [{"groups": [["停水", "停电"], ["两天", "全村"]], "weight": 2.5, "note": "长时间停水"}]}
    assert score(rule, "全村停水") == (2.5, ("长时间停水",))
    assert score(rule, "停水了") == (0.0, ())


def test_a_veto_word_stops_a_rule() -> None:
    rule = {"rules": [{"groups": [["怎么办理"]], "none": ["进度"], "weight": 4}]}
    assert score(rule, "请问怎么办理？") == (4.0, ("怎么办理",))
    assert score(rule, "怎么办理的，进度到哪了") == (0.0, ())


def test_a_gap_pattern_matches_its_parts_within_one_clause() -> None:
    cues = {"words": {"拿*刀": 3}}
    assert score(cues, "他手里拿着一把菜刀")[0] == 3.0
    assert score(cues, "他拿了东西。刀在桌上")[0] == 0.0


@pytest.mark.parametrize(
    ("text", "value"),
    [("厨房着火了", 3.0), ("担心起火", 0.0), ("现场暂无人着火", 0.0), ("存在火灾隐患", 0.0)],
    ids=["a_fact", "a_worry", "a_denial", "a_hazard_suffix"],
)
def test_facts_only_cues_ignore_hedged_and_negated_clauses(text: str, value: float) -> None:
    cues = {"facts_only": True, "words": {"着火": 3, "起火": 3, "火灾": 3}}
    assert score(cues, text)[0] == value


def test_a_hedge_does_not_reach_past_the_end_of_its_clause() -> None:
    cues = {"facts_only": True, "words": {"着火": 3}}
    assert score(cues, "担心出事。现在着火了")[0] == 3.0
