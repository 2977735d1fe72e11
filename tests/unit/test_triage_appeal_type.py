"""Appeal type, urgency and messy input: reports without 举报, lives at risk, two problems in one call."""

from __future__ import annotations

import functools
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from domain.jurisdiction import Jurisdiction, parse_jurisdiction
from domain.triage import LabelledText, Triager, parse_lexicon
from domain.triage.classify import AppealTypeClassifier, CategoryClassifier
from domain.triage.matching import HedgeDetector, Vocabulary
from domain.triage.normalisation import TextNormaliser
from domain.triage.problems import parts
from domain.triage.urgency import UrgencyAssessor
from schemas.appeal import Appeal
from schemas.triage import TriageDecision
from shaobao import triage_cli

DATA = Path(__file__).resolve().parents[2] / "data" / "jurisdiction"


@functools.cache
def jurisdiction() -> Jurisdiction:
    return parse_jurisdiction(yaml.safe_load((DATA / "sample-county.yaml").read_text(encoding="utf-8")))


@functools.cache
def lexicon_data() -> dict[str, object]:
    data = yaml.safe_load((DATA / "sample-county.lexicon.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@functools.cache
def triager() -> Triager:
    return Triager(jurisdiction(), parse_lexicon(lexicon_data()))


def decide(text: str) -> TriageDecision:
    appeal = Appeal(
        channel="phone", source_id="t-1", received_at=datetime(2026, 1, 5, 2, 0, tzinfo=UTC), text=text
    )
    return triager().decide(appeal)


# --- messy input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("messy", "plain"),
    [
        ("這棟樓的電梯壞了，業主們很擔心。", "这栋楼的电梯坏了，业主们很担心。"),
        ("嗯……那个那个，就是说，我们小区停水三天了", "我们小区停水三天了"),
        ("呃，喂，你好，路灯不亮", "你好，路灯不亮"),
        ("楼下吵死哒😡😡[捂脸]", "楼下吵死了"),
        ("张姐 10:32\n门口又堵了\n[21:08] 冇得人管", "门口又堵了\n没有人管"),
        ("晚上10:30还在施工", "晚上10:30还在施工"),
        ("晚上 10:30 还在施工", "晚上 10:30 还在施工"),
        ("伢子作业都写不成，搞么子名堂", "孩子作业都写不成，干什么名堂"),
        ("屋里娭毑九十岁了，冇水吃", "屋里奶奶九十岁了，没水吃"),
        ("天燃气味道好大", "天然气味道好大"),
        ("金额不对", "金额不对"),
    ],
    ids=[
        "traditional",
        "fillers",
        "interjections",
        "emoji_and_stickers",
        "chat_stamps",
        "a_time_inside_a_sentence_stays",
        "a_time_opening_a_sentence_stays",
        "changsha_dialect",
        "dialect_kin_and_negation",
        "a_transcript_mishearing",
        "a_word_that_only_looks_like_a_filler",
    ],
)
def test_messy_input_is_read_as_plain_simplified_chinese(messy: str, plain: str) -> None:
    normaliser = TextNormaliser(parse_lexicon(lexicon_data()).spoken_forms)
    assert normaliser.normalise(messy) == plain


def test_every_lexicon_word_is_written_as_normalised_text_reads_so_none_can_never_match() -> None:
    lexicon = parse_lexicon(lexicon_data())
    normaliser = TextNormaliser(lexicon.spoken_forms)
    words = (
        CategoryClassifier(lexicon).words()
        | AppealTypeClassifier(lexicon).words()
        | UrgencyAssessor(lexicon).words()
    )
    assert sorted(w for w in words if normaliser.changes(w.replace("*", ""))) == []


def test_a_traditional_appeal_is_routed_like_its_simplified_twin() -> None:
    simplified = decide("回龙铺镇金玉村老十三组停水三天了，全组几十户挑水吃。")
    traditional = decide("回龍鋪鎮金玉村老十三組停水三天了，全組幾十戶挑水吃。")
    fields = ("category", "town", "urgency", "disposition", "lead", "co")
    assert [getattr(traditional, f) for f in fields] == [getattr(simplified, f) for f in fields]
    assert (simplified.category, simplified.town) == ("utility.water", "huilongpu")


def test_a_dialect_chat_paste_with_emoji_is_understood() -> None:
    decision = decide("刘嗲 21:08\n金玉村老十三组冇得水三天了😭😭 屋里娭毑八十多岁咯")
    assert (decision.category, decision.town, decision.urgency) == ("utility.water", "huilongpu", "urgent")


# --- reports -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "我们村有户人家私自在基本农田上盖房子，已经砌到二楼了，请依法查处，别说是我反映的。",
        "河边那家小作坊没有营业执照，天天半夜往河里排废水，请环保部门查一查。",
        "我怕被报复，不敢实名。小区门口那家超市一直在卖过期的牛奶。",
        "刚才看到有个人在菜市场门口偷电动车，锁都剪断了。",
        "村里的网格员收了我们每户两百块钱，说是办低保的手续费，也不开票。",
    ],
    ids=[
        "illegal_building",
        "unlicensed_workshop_dumping",
        "fears_retaliation",
        "witness_to_theft",
        "official",
    ],
)
def test_a_report_that_never_says_jubao_is_a_report_and_its_caller_is_kept_secret(text: str) -> None:
    decision = decide(text)
    assert decision.appeal_type == "report", decision.explanation
    assert any(line.startswith("来电人身份：保密") for line in decision.explanation)


def test_when_unsure_whether_it_is_a_report_the_caller_is_kept_secret_and_the_explanation_says_so() -> None:
    # The caller says 投诉 (a complaint) and is bothered themselves, but tells of a shop breaking the rules.
    # The type stays what it most likely is (the monthly shares count it); the caller is withheld.
    decision = decide("投诉楼下饭店油烟直排，熏得我们没法开窗。")
    assert decision.appeal_type == "complaint"
    assert decision.caller_withheld and decision.reporter_protected
    assert "可能为举报" in decision.explanation[1] and "来电人按举报人保护" in decision.explanation[1]
    assert "来电人身份：保密（不确定是否为举报，按举报人保护，不向承办单位提供来电人信息）" in (
        decision.explanation
    )


def test_a_caller_the_hotline_declared_confidential_is_withheld_whatever_the_text_reads() -> None:
    text = "楼上邻居天天半夜跺脚拖凳子，吵得我们睡不着。"
    appeal = Appeal(
        channel="phone",
        source_id="t-2",
        received_at=datetime(2026, 1, 5, 2, 0, tzinfo=UTC),
        text=text,
        confidential=True,
    )
    decision = triager().decide(appeal)
    assert decision.appeal_type == decide(text).appeal_type  # the type is still the best reading
    assert decision.caller_withheld and decision.reporter_protected
    assert "来电人身份：保密（热线已声明保密，不向承办单位提供来电人信息）" in decision.explanation


@pytest.mark.parametrize(
    "text",
    ["楼上邻居天天半夜跺脚拖凳子，吵得我们睡不着。", "小区门口的路灯坏了一个多星期，晚上黑漆漆的。"],
    ids=["noise_from_upstairs", "a_broken_street_lamp"],
)
def test_a_complaint_or_a_request_for_help_is_not_taken_for_a_report(text: str) -> None:
    decision = decide(text)
    assert decision.appeal_type in {"complaint", "help"}
    assert not decision.caller_withheld
    assert not any(line.startswith("来电人身份") for line in decision.explanation)


# --- urgency -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "九里小区停电两个钟头了，我父亲在家靠制氧机吸氧，现在机器停了，怎么办。",
        "春城社区下水道堵了，粪水从地漏反冒出来，已经淹进一楼好几户人家，家里都有老人小孩。",
        "东城学校旁边那堵挡土墙裂开了，砖头一块块往下掉，孩子们上学放学就从墙下面过。",
        "大冬天的整个小区停暖停电，好多独居老人冻得受不了。",
        "小区后面山坡上的围墙往外鼓，随时要倒，下面就是人行道。",
        "今天早上孩子上校车，我闻到司机满身酒气，车子刚开走，车上有二十多个孩子。",
        "白云村有个八十多岁的五保老人一个人住，这几天生病下不了床，没人做饭。",
        "我们咯里自来水停咯三天哒，一滴都冇得，村里好多老人家。",
        "今晚降温到零度，候车亭里睡着一个精神不太正常的男的，身上就一件单衣。",
    ],
    ids=[
        "oxygen_concentrator_without_power",
        "sewage_rising_into_ground_floor_homes",
        "cracked_retaining_wall_over_a_school_path",
        "no_power_or_heating_for_old_people_in_winter",
        "a_wall_about_to_fall_over_a_footpath",
        "a_school_bus_driver_smelling_of_drink",
        "an_old_man_alone_ill_in_bed",
        "no_water_for_three_days_in_dialect",
        "a_confused_man_outdoors_in_the_frost",
    ],
)
def test_a_life_at_risk_is_never_dispatched_as_routine(text: str) -> None:
    decision = decide(text)
    assert decision.urgency in {"urgent", "emergency"}, decision.explanation


def test_when_unsure_whether_a_life_is_at_risk_triage_errs_toward_urgency_and_says_so() -> None:
    data = {
        "categories": {},
        "appeal_types": {},
        "urgency": {"urgent": {"words": {"漏风": 1.0}}, "vulnerable": ["老人"]},
    }
    assessor = UrgencyAssessor(parse_lexicon(data))
    vocabulary = Vocabulary(assessor.words(), HedgeDetector(()))
    road = jurisdiction().category_by_code["municipal.road"]
    alone = assessor.assess(vocabulary.scan("屋子有点漏风。"), road)
    old_man = assessor.assess(vocabulary.scan("屋子有点漏风，里面住着一个老人。"), road)
    assert (alone.urgency, alone.caution) == ("normal", "")
    assert (old_man.urgency, old_man.confidence) == ("urgent", 0.5)
    assert old_man.caution == "有老人，且有漏风，无法排除危及生命"


def test_labelled_urgencies_teach_a_model_that_raises_what_the_lexicon_misses_from_caution() -> None:
    examples = [
        LabelledText(f"楼道里那个东西又在滴答滴答响第{i}回", "drainage.sewer", None, "a", "urgent")
        for i in range(20)
    ]
    examples += [LabelledText(f"下水道堵塞第{i}回", "drainage.sewer", None, "b", "normal") for i in range(20)]
    unlabelled = [LabelledText(e.text, e.category, None, e.source) for e in examples]
    taught = Triager(jurisdiction(), parse_lexicon(lexicon_data()), examples=examples)
    untaught = Triager(jurisdiction(), parse_lexicon(lexicon_data()), examples=unlabelled)
    appeal = Appeal(
        channel="phone",
        source_id="t-2",
        received_at=datetime(2026, 1, 5, tzinfo=UTC),
        text="楼道里那个东西又在滴答滴答响。",
    )
    raised, kept = taught.decide(appeal), untaught.decide(appeal)
    assert (raised.urgency, kept.urgency) == ("urgent", "normal")
    assert raised.explanation[3].startswith("紧急程度：紧急（从严：统计模型判为紧急（")


def test_the_urgency_explanation_gives_its_confidence() -> None:
    decision = decide("九里小区停电两个钟头了，我父亲在家靠制氧机吸氧，现在机器停了。")
    assert decision.explanation[3].startswith("紧急程度：紧急，依据“依赖医疗设备的人断电”")
    assert decision.explanation[3].endswith("把握1.00")


# --- two problems in one appeal ----------------------------------------------------------------


def test_text_is_cut_where_one_matter_may_end_and_another_begin() -> None:
    assert parts("广场舞太吵了。另外门口乱停车，还有一件事，路灯不亮") == [
        "广场舞太吵了",
        "门口乱停车",
        "路灯不亮",
    ]


def test_two_problems_in_one_appeal_are_both_named_and_the_second_is_flagged_for_a_split() -> None:
    decision = decide(
        "楼下广场舞每天晚上音响开得震天响，吵到十点多。另外小区门口天天有车乱停乱放，堵得进不去。"
    )
    second = [line for line in decision.explanation if line.startswith("另有诉求：")]
    assert decision.category in {"noise.social", "traffic.parking"}
    other = ({"noise.social", "traffic.parking"} - {decision.category}).pop()
    assert len(second) == 1 and f"（{other}）" in second[0] and "请拆分另立工单" in second[0]


def test_one_problem_told_at_length_is_not_split() -> None:
    decision = decide("楼上邻居天天半夜跺脚拖凳子。我上门说过好几次，他们还是照样吵，我们全家都睡不着。")
    assert not any(line.startswith("另有诉求") for line in decision.explanation)


# --- the measures ------------------------------------------------------------------------------


def test_eval_prints_the_appeal_type_and_urgency_confusion_tables_and_report_recall(tmp_path: Path) -> None:
    row: dict[str, Any] = {
        "id": "r1",
        "channel": "phone",
        "received_at": "2026-03-02T09:15:00+08:00",
        "text": "我们村有户人家私自在基本农田上盖房子，请依法查处。",
        "address": None,
        "caller": {},
        "expect": {
            "appeal_type": "report",
            "category": "construction.illegal",
            "urgency": "normal",
            "town": None,
            "disposition": "manual",
            "lead": None,
            "co": [],
        },
    }
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    out = io.StringIO()
    assert triage_cli.run(["eval", "--no-model", str(path)], out=out) == 0
    text = out.getvalue()
    assert "reports recognised as reports (report recall):     100.0% (1/1)" in text
    assert "appeal type (rows labelled, columns decided):" in text
    assert "urgency (rows labelled, columns decided):" in text
    report_row = next(line for line in text.splitlines() if line.startswith("  report "))
    assert report_row.split()[1:7] == ["0", "0", "0", "1", "0", "0"]
