"""Triage decisions follow the jurisdiction's routing table: lead, co, transfer, instant, manual."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from domain.jurisdiction import Jurisdiction, parse_jurisdiction
from domain.triage import Triager, parse_lexicon
from schemas.appeal import Appeal
from schemas.triage import TriageDecision

DATA = Path(__file__).resolve().parents[2] / "data" / "jurisdiction"


@functools.cache
def jurisdiction() -> Jurisdiction:
    return parse_jurisdiction(yaml.safe_load((DATA / "sample-county.yaml").read_text(encoding="utf-8")))


@functools.cache
def triager() -> Triager:
    lexicon = parse_lexicon(yaml.safe_load((DATA / "sample-county.lexicon.yaml").read_text(encoding="utf-8")))
    return Triager(jurisdiction(), lexicon)


def decide(text: str, address: str = "") -> TriageDecision:
    appeal = Appeal(
        channel="phone",
        source_id="t-1",
        received_at=datetime(2026, 3, 2, 1, 15, tzinfo=UTC),
        text=text,
        address=address,
    )
    return triager().decide(appeal)


# (test id, text, address, category, town, lead, co)
DISPATCHED = [
    (
        "rural_water_outage_goes_to_water_bureau_with_supply_company",
        "回龙铺镇金玉村老十三组停水三天了，全组几十户挑水吃，请派人修。",
        "",
        "utility.water",
        "huilongpu",
        "slj",
        ("gsgs", "huilongpu"),
    ),
    (
        "urban_water_outage_goes_to_supply_company_alone",
        "香山社区今天一早就停水了，到现在还没来水。",
        "",
        "utility.water",
        "yutan",
        "gsgs",
        (),
    ),
    (
        "rural_illegal_building_goes_to_natural_resources_with_the_town",
        "花明楼镇东风村有户人家没有审批就加盖了两层，请查处。",
        "",
        "construction.illegal",
        "huaminglou",
        "zrzyj",
        ("huaminglou",),
    ),
    (
        "urban_illegal_building_goes_to_city_management_with_the_town",
        "凤凰社区有住户在楼顶违章搭建铁皮房。",
        "白马桥街道凤凰社区",
        "construction.illegal",
        "baimaqiao",
        "cgj",
        ("baimaqiao",),
    ),
    (
        "rural_garbage_goes_to_the_town_alone",
        "青山桥集镇的垃圾池一个礼拜没人清运，臭气熏天。",
        "",
        "sanitation.garbage",
        "qingshanqiao",
        "qingshanqiao",
        (),
    ),
    (
        "urban_garbage_goes_to_city_management_with_the_town",
        "文昌社区的垃圾桶满了好几天没人清运。",
        "",
        "sanitation.garbage",
        "chengjiao",
        "cgj",
        ("chengjiao",),
    ),
    (
        "street_vendors_go_to_the_town_with_city_management",
        "团结菜市场门口的流动摊贩占道经营，路都堵死了。",
        "",
        "vendor.street",
        "lijingpu",
        "lijingpu",
        ("cgj",),
    ),
    (
        "complaint_about_a_traffic_policeman_goes_to_supervision_not_to_the_police",
        "金洲大道上一个交警态度恶劣，还骂人，我要投诉他。",
        "",
        "govt.conduct",
        "lijingpu",
        "dcs",
        (),
    ),
    (
        "sand_mining_goes_to_water_bureau_with_four_helpers",
        "举报：流沙河镇草冲村河道里有人夜里偷偷采砂。",
        "",
        "resource.sand",
        "liushahe",
        "slj",
        ("zrzyj", "lyj", "cgj", "liushahe"),
    ),
    (
        "catering_fumes_need_no_town_to_be_dispatched",
        "楼下的餐馆油烟直排，熏得窗户上一层油。",
        "",
        "fumes.catering",
        None,
        "cgj",
        ("sthjj",),
    ),
]


@pytest.mark.parametrize(
    ("text", "address", "category", "town", "lead", "co"),
    [case[1:] for case in DISPATCHED],
    ids=[case[0] for case in DISPATCHED],
)
def test_dispatched_appeal_follows_the_routing_table(
    text: str, address: str, category: str, town: str | None, lead: str, co: tuple[str, ...]
) -> None:
    decision = decide(text, address)
    assert (decision.disposition, decision.category, decision.town) == ("dispatch", category, town)
    assert (decision.lead, decision.co) == (lead, co)
    assert decision.suggestion == ()


@pytest.mark.parametrize(
    ("text", "category", "line"),
    [
        ("玉潭街道城北社区一栋居民楼的楼道里电动车着火了，浓烟冲到三楼。", "emergency.fire", "119"),
        ("高峰路一个网吧门口几个人拿着刀在打架，已经有人流血了！", "emergency.police", "110"),
        ("人民广场有个老人突然晕倒在地，叫不醒，快派救护车。", "emergency.medical", "120"),
    ],
    ids=["fire_goes_to_119", "a_knife_fight_goes_to_110", "a_collapse_goes_to_120"],
)
def test_emergency_is_transferred_to_its_line_and_dispatched_to_no_unit(
    text: str, category: str, line: str
) -> None:
    decision = decide(text)
    assert (decision.category, decision.disposition, decision.transfer_to) == (category, "transfer", line)
    assert (decision.urgency, decision.lead, decision.co) == ("emergency", None, ())


@pytest.mark.parametrize(
    ("text", "appeal_type", "category"),
    [
        ("请问住房公积金租房提取需要什么材料？在哪里办？", "consult", "policy.consult"),
        ("我要表扬白马桥供电所的师傅，半夜冒雨抢修，天亮就来电了。", "praise", "utility.power"),
        ("建议人民广场多放几个垃圾桶。只是提个建议，不需要回复。", "suggestion", "sanitation.garbage"),
    ],
    ids=[
        "a_policy_question_is_answered_on_line",
        "praise_is_answered_on_line",
        "a_suggestion_asking_no_action_is_answered_on_line",
    ],
)
def test_instant_appeals_are_answered_by_the_hotline(text: str, appeal_type: str, category: str) -> None:
    decision = decide(text)
    assert (decision.disposition, decision.appeal_type, decision.category) == (
        "instant",
        appeal_type,
        category,
    )
    assert (decision.lead, decision.co) == (None, ())


def test_a_suggestion_that_asks_a_unit_to_act_is_dispatched() -> None:
    decision = decide("建议在老粮仓集镇到城里的班车增加下午的班次，方便老人看病回家。")
    assert (decision.appeal_type, decision.disposition, decision.lead) == ("suggestion", "dispatch", "jtysj")


def test_a_question_about_ones_own_stalled_case_is_dispatched_not_answered_on_line() -> None:
    decision = decide("我的公积金提取申请提交一个多月了，至今没有到账，请问进度到哪一步了？")
    assert (decision.category, decision.disposition, decision.lead) == ("housing.fund", "dispatch", "gjj")


def test_an_ambiguous_village_alone_goes_to_a_person_with_both_towns_suggested() -> None:
    decision = decide("长乐村有人在自家房子旁边违建一栋三层楼，村里制止不了。")
    assert (decision.category, decision.town, decision.town_resolution) == (
        "construction.illegal",
        None,
        "ambiguous",
    )
    assert (decision.disposition, decision.lead, decision.co) == ("manual", None, ())
    assert decision.town_candidates == ("daolin", "shuangjiangkou")
    assert "候选属地：道林镇、双江口镇" in decision.suggestion


def test_an_ambiguous_village_with_a_landmark_of_one_town_is_dispatched_there() -> None:
    decision = decide("长乐村的孩子到道林中学上学要走十几里山路，建议开通校车。")
    assert (decision.town, decision.disposition, decision.lead) == ("daolin", "dispatch", "jyj")


def test_a_category_that_needs_a_town_without_any_place_goes_to_a_person() -> None:
    decision = decide("楼上天天半夜打麻将，吵得睡不着，讲了也不听。")
    assert (decision.category, decision.town, decision.disposition) == ("noise.social", None, "manual")
    assert decision.suggested_lead is None
    assert any("gaj牵头" in line for line in decision.suggestion)


def test_text_that_names_no_category_goes_to_a_person_never_a_silent_guess() -> None:
    decision = decide("我想找你们说点事情。")
    assert (decision.disposition, decision.lead, decision.confidence) == ("manual", None, 0.0)
    assert decision.explanation[0] == "分类：未命中任何分类词语，须人工判断"
    assert decision.suggestion == ("建议分类：无（未命中任何分类词语，请人工判断分类与属地）",)


def test_a_tie_between_differently_routed_categories_goes_to_a_person_with_the_best_guess() -> None:
    decision = decide("湘核华府的电梯坏了，物业说维修资金不够。")
    assert (decision.disposition, decision.town, decision.lead) == ("manual", "baimaqiao", None)
    assert decision.confidence < 0.45
    assert (decision.suggested_lead, decision.suggested_co) == ("zjj", ("baimaqiao",))
    assert "备选分类：电梯等特种设备（equipment.elevator）" in decision.suggestion


def test_the_explanation_names_the_words_the_place_and_the_route_in_chinese() -> None:
    decision = decide("回龙铺镇金玉村老十三组停水三天了，全组几十户挑水吃。")
    assert decision.explanation == (
        decision.explanation[0],
        "诉求类型：求助（未见明确表述，按该分类常见类型）",
        "属地：回龙铺镇，依据“回龙铺镇”、“金玉村”（镇街名称）",
        "紧急程度：紧急，依据“长时间或大面积停水停电”，把握0.62",
        "派单：市水利局牵头，城区供水公司、回龙铺镇协办（按路由表）",
    )
    assert "“停水”" in decision.explanation[0]


def test_every_category_in_the_jurisdiction_has_cues_in_the_lexicon() -> None:
    lexicon = parse_lexicon(yaml.safe_load((DATA / "sample-county.lexicon.yaml").read_text(encoding="utf-8")))
    assert set(lexicon.categories) == {category.code for category in jurisdiction().categories}
