"""Searching the knowledge base: ranking, why, folding, validity, and nothing for nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from domain.kb.search import KbSearchIndex, fold, terms_of
from schemas.kb import KbEntry

REPO = Path(__file__).resolve().parents[2]
TODAY = date(2026, 12, 7)
CATEGORY_NAMES = {
    "housing.fund": "住房公积金",
    "social.insurance": "社保养老",
    "medical.insurance": "医保报销",
}


def example_entries() -> list[KbEntry]:
    data = yaml.safe_load((REPO / "data" / "kb" / "example.yaml").read_text(encoding="utf-8"))
    return [KbEntry.model_validate(item) for item in data["entries"]]


@pytest.fixture(scope="module")
def index() -> KbSearchIndex:
    return KbSearchIndex(example_entries(), CATEGORY_NAMES)


def entry(entry_id: str, question: str, **fields: object) -> KbEntry:
    values: dict[str, object] = {
        "entry_id": entry_id,
        "title": question,
        "unit": "gjj",
        "categories": ("housing.fund",),
        "questions": (question,),
        "answer": "请到服务大厅办理。",
        "source": {"document": "办法"},
        "valid_from": date(2024, 1, 1),
    }
    return KbEntry.model_validate(values | fields)


def test_a_retirees_question_finds_the_withdrawal_entry_first_with_the_words_and_question_it_matched(
    index: KbSearchIndex,
) -> None:
    matches = index.search("我退休了，想把公积金取出来，怎么提取", today=TODAY)
    assert [m.entry.entry_id for m in matches] == [
        "gjj-retire-withdraw",
        "gjj-loan-limit-2023",
        "rsj-pension-certification",
    ]
    assert matches[0].why == ("命中：退休、公积金、取出来、提取", "最接近的问题：退休了怎么提取住房公积金？")
    assert [m.current for m in matches] == [True, False, True]
    assert matches[0].score > 5 * matches[1].score


@pytest.mark.parametrize(
    ("text", "first", "hit"),
    [
        ("去上海住院医保能报销吗", "ybj-remote-filing", "命中：住院、医保、报销"),
        ("网购的衣服不给退", "scjgj-online-return", "命中：网购、不给退"),
        ("养老金认证", "rsj-pension-certification", "命中：养老金认证"),
        ("公积金贷款能贷多少", "gjj-loan-limit-2023", "命中：公积金贷款、能贷"),
    ],
)
def test_each_example_question_finds_its_entry_first(
    index: KbSearchIndex, text: str, first: str, hit: str
) -> None:
    best = index.search(text, today=TODAY)[0]
    assert (best.entry.entry_id, best.why[0]) == (first, hit)


def test_traditional_and_full_width_text_finds_what_simplified_text_finds(index: KbSearchIndex) -> None:
    traditional = index.search("我爸爸退休了公積金怎麼領", today=TODAY)
    simplified = index.search("我爸爸退休了公积金怎么领", today=TODAY)
    assert traditional == simplified
    assert traditional[0].entry.entry_id == "gjj-retire-withdraw"
    assert traditional[0].why[0] == "命中：退休、公积金"
    assert fold("ＡＰＰ　１２３４５，養老金") == "app 12345,养老金"
    assert index.search("ＡＰＰ怎么认证", today=TODAY)[0].why[0] == "命中：app、认证"


def test_an_out_of_date_entry_ranks_below_a_current_one_of_the_same_words() -> None:
    old = entry(
        "loan-2023", "公积金贷款最高额度是多少", valid_from=date(2023, 1, 1), valid_to=date(2023, 12, 31)
    )
    new = entry("loan-2026", "公积金贷款最高额度是多少")
    future = entry("loan-2027", "公积金贷款最高额度是多少", valid_from=date(2027, 1, 1))
    matches = KbSearchIndex([old, future, new]).search("公积金贷款最高额度", today=TODAY)
    assert [(m.entry.entry_id, m.current) for m in matches] == [
        ("loan-2026", True),
        ("loan-2023", False),
        ("loan-2027", False),
    ]
    assert matches[1].score == matches[2].score < matches[0].score
    # The same entry is current on a day inside its period.
    assert KbSearchIndex([old]).search("公积金贷款", today=date(2023, 6, 1))[0].current is True


def test_a_tag_or_category_name_in_the_text_lifts_its_entry() -> None:
    plain = entry("plain", "提取需要什么材料")
    tagged = entry("tagged", "提取需要什么材料", tags=("公积金",))
    matches = KbSearchIndex([plain, tagged]).search("公积金提取材料", today=TODAY)
    assert [m.entry.entry_id for m in matches] == ["tagged", "plain"]
    named = KbSearchIndex([plain], CATEGORY_NAMES).search("住房公积金提取材料", today=TODAY)[0].score
    unnamed = KbSearchIndex([plain]).search("住房公积金提取材料", today=TODAY)[0].score
    assert named > unnamed


@pytest.mark.parametrize("text", ["", "   ", "，。！？", "的", "怎么办", "请问"])
def test_empty_punctuation_or_asking_words_alone_find_nothing(index: KbSearchIndex, text: str) -> None:
    assert index.search(text, today=TODAY) == ()


def test_a_text_sharing_no_word_with_any_entry_finds_nothing(index: KbSearchIndex) -> None:
    assert index.search("楼上装修电钻噪音太吵", today=TODAY) == ()


def test_limit_caps_the_matches(index: KbSearchIndex) -> None:
    assert len(index.search("公积金退休养老金医保", limit=2, today=TODAY)) == 2
    assert index.search("公积金", limit=0, today=TODAY) == ()


def test_terms_are_unigrams_bigrams_trigrams_and_whole_words() -> None:
    assert terms_of("公积金 App2") == ["公", "积", "金", "公积", "积金", "公积金", "app2"]
