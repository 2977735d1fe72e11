"""Personal numbers in every common written form are masked before text leaves the hotline
(issue 18, item 3), and what only looks like one (dates, amounts, rooms, ticket numbers) is not."""

from __future__ import annotations

import pytest

from domain.privacy import scrub_identifiers, text_for_units
from schemas.appeal import Caller

# (as written, as it leaves): exact, so a mask that leaks one digit too many fails.
MASKED = [
    # mobiles
    ("电话13807311234", "电话138****1234"),
    ("电话138-0731-1234", "电话138****1234"),
    ("电话138 0731 1234", "电话138****1234"),
    ("电话138.0731.1234", "电话138****1234"),
    ("电话1380 731 1234", "电话138****1234"),
    ("电话138 - 0731 - 1234", "电话138****1234"),
    ("电话1 3 8 0 7 3 1 1 2 3 4", "电话138****1234"),
    ("电话+8613807311234", "电话+86 138****1234"),
    ("电话+86 139 0731 1235", "电话+86 139****1235"),
    ("电话+86-138-0731-1234", "电话+86 138****1234"),
    ("电话0086 13807311234", "电话0086 138****1234"),
    ("电话008613807311234", "电话0086 138****1234"),
    ("电话86-13807311234", "电话86 138****1234"),
    ("电话(+86)13807311234", "电话(+86) 138****1234"),
    ("电话（+86）138 0731 1234", "电话(+86) 138****1234"),
    ("电话１３８０７３１１２３４", "电话138****1234"),
    ("电话１３８－０７３１－１２３４", "电话138****1234"),
    ("电话＋８６　１３８０７３１１２３４", "电话+86 138****1234"),
    ("电话幺三八零七三一幺二三四", "电话138****1234"),
    ("电话一三九零七三一一二三五", "电话139****1235"),
    ("手机：17707311234。", "手机：177****1234。"),
    ("号码19907311234，", "号码199****1234，"),
    ("两个号码13807311234和13907319999", "两个号码138****1234和139****9999"),
    ("tel:13807311234", "tel:138****1234"),
    # landlines (with the area code)
    ("座机0731-85551234", "座机0731-****1234"),
    ("座机0731 8555 1234", "座机0731-****1234"),
    ("座机073185551234", "座机0731-****1234"),
    ("座机(0731)85551234", "座机(0731)-****1234"),
    ("座机（0731）8555-1234", "座机(0731)-****1234"),
    ("座机010-62551234", "座机010-****1234"),
    ("座机0731-5551234", "座机0731-****1234"),
    ("座机０７３１－８５５５１２３４", "座机0731-****1234"),
    # ID-card numbers
    ("身份证430124199001011234", "身份证430*************34"),
    ("身份证43012419900101123X", "身份证430*************3X"),
    ("身份证43012419900101123x", "身份证430*************3x"),
    ("身份证430124 19900101 1234", "身份证430*************34"),
    ("身份证４３０１２４１９９００１０１１２３４", "身份证430*************34"),
    ("老身份证430124900101123", "老身份证430**********23"),
    # bank cards
    ("卡号6222021234567890123", "卡号****0123"),
    ("卡号6222 0212 3456 7890", "卡号****7890"),
    ("卡号6222-0212-3456-7890", "卡号****7890"),
    ("卡号6217 0012 3456 7890 12", "卡号****9012"),
    # e-mail addresses
    ("邮箱zhang.san@qq.com", "邮箱z***@qq.com"),
    ("邮箱li_si-88@163.com，", "邮箱l***@163.com，"),
    ("邮箱wang＠example.com.cn", "邮箱w***@example.com.cn"),
]

KEPT = [
    "2026-12-06 下午3点",
    "2026年12月6日",
    "13号楼2单元301室",
    "欠薪12345678元",
    "工单号20260302000123不是手机",
    "拨打12345反映",
    "车牌湘A12345",
    "晚上10:30以后",
    "面积120.5平方米",
    "400-800-1234客服",
    "第一二三期小区",
]


def test_the_corpus_has_at_least_forty_written_forms() -> None:
    assert len(MASKED) >= 40


@pytest.mark.parametrize(("written", "leaves"), MASKED)
def test_every_written_form_is_masked(written: str, leaves: str) -> None:
    assert scrub_identifiers(written) == leaves


@pytest.mark.parametrize("text", KEPT)
def test_what_only_looks_like_a_number_is_kept(text: str) -> None:
    assert scrub_identifiers(text) == text


def test_the_issues_example_reaches_the_unit_with_none_of_its_numbers() -> None:
    text = "我叫刘德华，手机138-0731-1234，备用+86 139 0731 1235，座机0731-85551234，身份证430124199001011234"
    caller = Caller(name="刘德华", phone="13807311234")
    shown = text_for_units(text, caller, protected=False)
    assert shown == (
        "我叫刘**，手机138****1234，备用+86 139****1235，座机0731-****1234，身份证430*************34"
    )
    assert "刘德华" not in shown
    withheld = text_for_units(text, caller, protected=True)
    assert withheld.startswith("我叫（举报人），手机138****1234")
