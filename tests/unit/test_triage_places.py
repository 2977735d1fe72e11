"""Town resolution: full and short names, villages, landmarks, ambiguity, address, coordinates."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from domain.jurisdiction import parse_jurisdiction
from domain.triage import Triager, parse_lexicon
from domain.triage.geometry import contains, town_at
from domain.triage.places import PlaceFinder, TownFinding, build_place_index, resolve_town
from schemas.appeal import Appeal, Location

DATA = Path(__file__).resolve().parents[2] / "data" / "jurisdiction"


@functools.cache
def finder() -> PlaceFinder:
    jurisdiction = parse_jurisdiction(
        yaml.safe_load((DATA / "sample-county.yaml").read_text(encoding="utf-8"))
    )
    lexicon = parse_lexicon(yaml.safe_load((DATA / "sample-county.lexicon.yaml").read_text(encoding="utf-8")))
    index = build_place_index(jurisdiction, lexicon.place_aliases, lexicon.place_stem_suffixes)
    return PlaceFinder(index, lexicon.place_noise, lexicon.place_stem_followers, lexicon.place_kept_suffixes)


def locate(text: str, address: str = "") -> TownFinding:
    mentions = finder().mentions(address, in_address=True) + finder().mentions(text, in_address=False)
    return resolve_town(mentions, None, {})


@pytest.mark.parametrize(
    ("text", "town", "resolution"),
    [
        ("白马桥街道凤凰社区有人违建", "baimaqiao", "town_name"),
        ("白马桥那边有个工地晚上施工", "baimaqiao", "town_name"),
        ("回龙铺集镇上有家店放喇叭", "huilongpu", "landmark"),
        ("金玉村老十三组停水了", "huilongpu", "place"),
        ("金玉老十三组停水了", "huilongpu", "place"),
        ("砖塘那边有人填田", "meitanba", "place"),
        ("湘核华府小区门口违停", "baimaqiao", "landmark"),
        ("金洲大道上的路灯不亮", "lijingpu", "landmark"),
        ("金洲这边的新屋村三组没水", "jinzhou", "town_name"),
        ("沩山乡同庆村有人捕鸟", "weishan", "town_name"),
    ],
    ids=[
        "full_town_name",
        "short_town_name_with_那边",
        "market_town_landmark",
        "village_with_group_number",
        "village_without_its_suffix_before_a_group_number",
        "village_stem_before_那边",
        "estate_landmark",
        "longest_name_wins_so_金洲大道_is_not_金洲镇",
        "short_town_name_agrees_with_its_village",
        "township_name",
    ],
)
def test_a_named_place_resolves_to_its_town(text: str, town: str, resolution: str) -> None:
    finding = locate(text)
    assert (finding.town, finding.resolution) == (town, resolution)


def test_an_ambiguous_village_alone_leaves_the_town_unknown_with_both_candidates() -> None:
    finding = locate("长乐村有户人家在路边摆摊")
    assert finding == TownFinding(None, "ambiguous", ("长乐村",), ("daolin", "shuangjiangkou"))


@pytest.mark.parametrize(
    ("text", "town"),
    [
        ("长乐村的孩子在道林中学读书", "daolin"),
        ("长乐村靠近赤塘渡口那边有个碎石场", "shuangjiangkou"),
        ("龙泉村往黄材去的那条路上", "huangcai"),
        ("龙泉水库下面龙泉村的自来水停了", "xiaduopu"),
    ],
    ids=["by_a_school", "by_a_ferry", "by_a_short_town_name", "by_a_reservoir"],
)
def test_an_ambiguous_village_resolves_when_the_text_tells_the_towns_apart(text: str, town: str) -> None:
    assert locate(text).town == town


def test_the_address_outweighs_a_place_named_in_passing() -> None:
    finding = locate("我在白马桥市场买的热水器漏电", address="玉潭街道香山社区")
    assert (finding.town, finding.resolution) == ("yutan", "address")


def test_the_first_place_named_wins_when_the_text_names_two_towns_equally() -> None:
    assert locate("横市镇马家庙村到黄材镇的路上有个急弯").town == "hengshi"


@pytest.mark.parametrize(
    "text",
    ["楼上邻居半夜唱歌", "城郊结合部有人乱倒垃圾", "我在长沙住院花了六万"],
    ids=["no_place_at_all", "a_phrase_that_only_contains_a_town_name", "a_place_outside_the_county"],
)
def test_text_without_a_place_of_the_jurisdiction_has_no_town(text: str) -> None:
    assert locate(text) == TownFinding(None, "none")


def test_a_shortened_village_name_without_a_place_word_after_it_is_not_a_place() -> None:
    # 花园 (from 花园村) is an everyday word: only 花园村 or 花园那边 name the village.
    assert locate("小区花园里每天早上放音乐").town is None


def test_the_place_names_are_blanked_out_before_the_text_is_classified() -> None:
    text = "龙桥小学旁边的加工厂很吵"
    masked = finder().mask(text, finder().mentions(text, in_address=False))
    assert masked == "＿＿＿＿旁边的加工厂很吵"


def test_a_scenic_area_keeps_saying_scenic_area_after_masking() -> None:
    text = "花明楼景区停车场乱收费"
    assert finder().mask(text, finder().mentions(text, in_address=False)) == "＿＿＿景区停车场乱收费"


SQUARE = [(112.0, 28.0), (112.1, 28.0), (112.1, 28.1), (112.0, 28.1)]
TRIANGLE = [(112.1, 28.0), (112.2, 28.0), (112.1, 28.1)]


@pytest.mark.parametrize(
    ("lon", "lat", "inside"),
    [(112.05, 28.05, True), (112.15, 28.05, False), (111.99, 28.05, False), (112.05, 28.11, False)],
    ids=["centre", "east_of_it", "west_of_it", "north_of_it"],
)
def test_a_point_is_inside_a_polygon_only_within_its_edges(lon: float, lat: float, inside: bool) -> None:
    assert contains(SQUARE, lon, lat) is inside


def test_coordinates_name_the_one_town_whose_boundary_holds_them() -> None:
    boundaries = {"yutan": [SQUARE], "baimaqiao": [TRIANGLE]}
    assert town_at(28.02, 112.12, boundaries) == "baimaqiao"
    assert town_at(28.5, 112.5, boundaries) is None


def test_coordinates_resolve_the_town_when_the_text_names_no_place() -> None:
    finding = resolve_town([], Location(lat=28.05, lon=112.05), {"yutan": [SQUARE]})
    assert (finding.town, finding.resolution) == ("yutan", "coordinates")


def test_coordinates_settle_an_ambiguous_village_only_for_one_of_its_towns() -> None:
    mentions = finder().mentions("长乐村有人违建", in_address=False)
    inside_daolin = resolve_town(mentions, Location(lat=28.05, lon=112.05), {"daolin": [SQUARE]})
    inside_yutan = resolve_town(mentions, Location(lat=28.05, lon=112.05), {"yutan": [SQUARE]})
    assert (inside_daolin.town, inside_daolin.resolution) == ("daolin", "coordinates")
    assert (inside_yutan.town, inside_yutan.resolution) == (None, "ambiguous")


def shipped_triager() -> Triager:
    jurisdiction = parse_jurisdiction(
        yaml.safe_load((DATA / "sample-county.yaml").read_text(encoding="utf-8"))
    )
    lexicon = parse_lexicon(yaml.safe_load((DATA / "sample-county.lexicon.yaml").read_text(encoding="utf-8")))
    return Triager(jurisdiction, lexicon)


def at(text: str, lat: float, lon: float, address: str = "") -> Appeal:
    return Appeal(
        channel="app",
        source_id="geo-1",
        received_at=datetime(2026, 3, 2, 1, 0, tzinfo=UTC),
        text=text,
        address=address,
        location=Location(lat=lat, lon=lon),
    )


def test_every_town_of_the_sample_county_has_a_boundary_holding_its_own_centre_only() -> None:
    jurisdiction = parse_jurisdiction(
        yaml.safe_load((DATA / "sample-county.yaml").read_text(encoding="utf-8"))
    )
    boundaries = {town.code: [town.boundary] for town in jurisdiction.towns}
    centres = {
        town.code: (
            sum(lat for _, lat in town.boundary) / len(town.boundary),
            sum(lon for lon, _ in town.boundary) / len(town.boundary),
        )
        for town in jurisdiction.towns
    }
    assert len(centres) == 20 and all(len(town.boundary) >= 3 for town in jurisdiction.towns)
    assert {code: town_at(lat, lon, boundaries) for code, (lat, lon) in centres.items()} == {
        code: code for code in centres
    }


@pytest.mark.parametrize(
    ("lat", "lon", "town", "lead", "co"),
    [
        (28.27, 112.45, "yutan", "zjj", ("yutan",)),
        (28.16, 112.44, "baimaqiao", "zjj", ("baimaqiao",)),
        (28.05, 112.84, "daolin", "zjj", ("daolin",)),
    ],
    ids=["inside_yutan", "inside_baimaqiao", "inside_daolin"],
)
def test_an_appeal_with_coordinates_and_no_place_is_routed_to_the_town_that_holds_them(
    lat: float, lon: float, town: str, lead: str, co: tuple[str, ...]
) -> None:
    decision = shipped_triager().decide(
        at("小区门口下水道堵塞，污水外溢到路面，臭味很大，请疏通。", lat, lon)
    )
    assert (decision.town, decision.town_resolution, decision.disposition) == (
        town,
        "coordinates",
        "dispatch",
    )
    assert (decision.lead, decision.co) == (lead, co)


def test_a_place_named_in_the_text_outweighs_where_the_phone_was() -> None:
    # The caller reports from home in 玉潭 about a village in 回龙铺.
    decision = shipped_triager().decide(at("金玉村老十三组的下水道堵塞，污水外溢到路面。", 28.27, 112.45))
    assert (decision.town, decision.town_resolution) == ("huilongpu", "place")


def test_coordinates_outside_every_town_leave_an_appeal_without_a_place_to_a_person() -> None:
    decision = shipped_triager().decide(
        at("小区门口下水道堵塞，污水外溢到路面，臭味很大，请疏通。", 30.0, 114.0)
    )
    assert (decision.town, decision.town_resolution, decision.disposition) == (None, "none", "manual")


@pytest.mark.parametrize(
    ("text", "town", "evidence"),
    [
        ("喂 东湖堂集镇下面那一段 晚上有船在抽沙", "donghutang", "东湖塘集镇（文中作东湖堂集镇）"),
        ("白麻桥市场门口有人拿刀", "baimaqiao", "白马桥市场（文中作白麻桥市场）"),
        ("专塘村有个小作坊在做辣条", "meitanba", "砖塘村（文中作专塘村）"),
        ("那个 花鸣楼那个 探子冲 挡土墙裂了", "huaminglou", "花明楼（文中作花鸣楼）"),
    ],
    ids=[
        "town_landmark_塘_heard_as_堂",
        "town_马_heard_as_麻",
        "village_砖_heard_as_专",
        "town_明_heard_as_鸣",
    ],
)
def test_a_transcripts_homophone_of_a_place_name_is_found_by_its_sound(
    text: str, town: str, evidence: str
) -> None:
    found = locate(text)
    assert (found.town, found.evidence[0]) == (town, evidence)


@pytest.mark.parametrize(
    "text",
    ["关三那边有人烧垃圾", "白麻乔那边吵", "毛天的人来了"],
    ids=["two_characters_are_too_short", "more_than_half_written_wrong", "a_two_character_stem"],
)
def test_a_name_found_by_sound_needs_three_characters_and_half_of_them_right(text: str) -> None:
    assert locate(text) == TownFinding(None, "none")
