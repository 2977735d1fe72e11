"""Reading knowledge-base files: YAML and CSV, and every reason an entry is refused, in Chinese."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from domain.jurisdiction import Jurisdiction
from domain.kb.entries import KbFileError, Refused, entries_from_csv, entries_from_document
from infra.reference import load_jurisdiction
from streams.settings import DEFAULT_JURISDICTION

REPO = Path(__file__).resolve().parents[2]
HEADER = (
    "entry_id,title,unit,categories,tags,questions,answer,source_document,source_article,valid_from,valid_to"
)


@pytest.fixture(scope="module")
def jurisdiction() -> Jurisdiction:
    return load_jurisdiction(DEFAULT_JURISDICTION)


def good(**fields: Any) -> dict[str, Any]:
    return {
        "entry_id": "gjj-test",
        "title": "公积金提取",
        "unit": "gjj",
        "categories": ["housing.fund"],
        "questions": ["公积金怎么提取"],
        "answer": "到服务大厅办理。",
        "source": {"document": "提取办法", "article": "第八条"},
        "valid_from": "2024-01-01",
    } | fields


def refused_one(item: object, jurisdiction: Jurisdiction) -> Refused:
    found = entries_from_document({"entries": [item]}, jurisdiction)
    assert found.entries == ()
    [refused] = found.refused
    return refused


def test_the_example_yaml_reads_five_entries(jurisdiction: Jurisdiction) -> None:
    data = yaml.safe_load((REPO / "data" / "kb" / "example.yaml").read_text(encoding="utf-8"))
    found = entries_from_document(data, jurisdiction)
    assert (found.read, found.refused) == (5, ())
    assert [e.entry_id for e in found.entries] == [
        "gjj-retire-withdraw",
        "rsj-pension-certification",
        "ybj-remote-filing",
        "scjgj-online-return",
        "gjj-loan-limit-2023",
    ]
    assert found.entries[4].valid_to == date(2023, 12, 31)
    assert found.entries[0].source.cited() == "示范市住房公积金提取管理办法 第八条"


def test_a_csv_reads_lists_split_by_bars_and_empty_optional_cells_as_absent(
    jurisdiction: Jurisdiction,
) -> None:
    text = (
        "\ufeff" + HEADER + "\n"
        "gjj-a,公积金提取,gjj,housing.fund,公积金|提取,怎么提取公积金| 退休提取 ,"
        "到大厅办理。,提取办法,第八条,2024-01-01,\n"
        'rsj-b,养老金认证,rsj,social.insurance,,"养老金认证,怎么做",刷脸认证。,认证办法,,2023-07-01,2026-06-30\n'
    )
    found = entries_from_csv(text, jurisdiction)
    assert found.refused == ()
    first, second = found.entries
    assert (first.tags, first.questions, first.valid_to) == (
        ("公积金", "提取"),
        ("怎么提取公积金", "退休提取"),
        None,
    )
    assert (second.tags, second.questions, second.source.article) == ((), ("养老金认证,怎么做",), None)
    assert second.valid_to == date(2026, 6, 30)


def test_a_csv_row_is_named_by_its_line(jurisdiction: Jurisdiction) -> None:
    text = (
        HEADER
        + "\ngjj-a,标题,gjj,housing.fund,,问题,答案,办法,,2024-01-01,"
        + "\nbad,标题,nobody,housing.fund,,问题,答案,办法,,2024-01-01,\n"
    )
    found = entries_from_csv(text, jurisdiction)
    assert [e.entry_id for e in found.entries] == ["gjj-a"]
    assert found.refused == (Refused("第 3 行", "bad", ("单位代码 nobody 不是本辖区的单位",)),)


def test_a_csv_without_the_columns_is_refused_whole(jurisdiction: Jurisdiction) -> None:
    with pytest.raises(KbFileError) as refused:
        entries_from_csv("entry_id,title,extra\n", jurisdiction)
    assert str(refused.value) == (
        "缺少列：unit、categories、tags、questions、answer、source_document、source_article、valid_from、valid_to"
        "；不认识的列：extra（应为 " + HEADER + "）"
    )


@pytest.mark.parametrize("data", [None, [], {"entries": {}}, {"items": []}])
def test_a_yaml_document_without_an_entries_list_is_refused_whole(
    data: object, jurisdiction: Jurisdiction
) -> None:
    with pytest.raises(KbFileError, match="^文件须是一个映射，含 entries: 条目列表$"):
        entries_from_document(data, jurisdiction)


@pytest.mark.parametrize(
    ("fields", "reasons"),
    [
        ({"unit": "nobody"}, ("单位代码 nobody 不是本辖区的单位",)),
        ({"categories": ["housing.fund", "x.y"]}, ("分类代码 x.y 不是本辖区的分类",)),
        (
            {"entry_id": "Bad Id"},
            ("条目编号：只能由 a–z、0–9、'.'、'_'、'-' 组成，以字母或数字开头，1–80 个字符",),
        ),
        ({"title": ""}, ("标题：不能为空",)),
        ({"title": "长" * 201}, ("标题：过长（最多 200 个字符）",)),
        ({"questions": ["问" * 201]}, ("问题第 1 项：过长（最多 200 个字符）",)),
        ({"questions": []}, ("问题：至少要有 1 项",)),
        ({"categories": []}, ("分类：至少要有 1 项",)),
        ({"tags": ["t"] * 21}, ("标签：最多 20 项",)),
        ({"valid_from": "2024-13-01"}, ("生效日期：不是有效日期（应为 YYYY-MM-DD，如 2024-01-01）",)),
        ({"valid_to": "2023-12-31"}, ("条目：失效日期早于生效日期",)),
        ({"source": {"document": ""}}, ("依据文件：不能为空",)),
        ({"source": "提取办法"}, ("依据：应为映射（document、article）",)),
        ({"title": 7}, ("标题：应为文字",)),
        ({"owner": "x"}, ("owner：不认识的字段",)),
    ],
)
def test_each_kind_of_error_is_said_in_chinese(
    fields: dict[str, Any], reasons: tuple[str, ...], jurisdiction: Jurisdiction
) -> None:
    assert refused_one(good(**fields), jurisdiction).reasons == reasons


def test_a_missing_field_is_named(jurisdiction: Jurisdiction) -> None:
    item = good()
    del item["answer"], item["source"]
    assert refused_one(item, jurisdiction).reasons == ("答案：缺少（必填）", "依据：缺少（必填）")


def test_an_item_that_is_no_mapping_is_refused(jurisdiction: Jurisdiction) -> None:
    assert refused_one("公积金", jurisdiction) == Refused(
        "第 1 条", None, ("不是一个条目（应为含 entry_id、title 等字段的映射）",)
    )


def test_every_reason_of_an_entry_is_given_at_once_and_a_repeated_id_is_refused(
    jurisdiction: Jurisdiction,
) -> None:
    found = entries_from_document(
        {"entries": [good(), good(unit="nobody", title=""), good(title="另一个")]}, jurisdiction
    )
    assert [e.title for e in found.entries] == ["公积金提取"]
    assert found.refused == (
        Refused(
            "第 2 条",
            "gjj-test",
            ("条目编号 gjj-test 重复（第 1 条已用）", "标题：不能为空", "单位代码 nobody 不是本辖区的单位"),
        ),
        Refused("第 3 条", "gjj-test", ("条目编号 gjj-test 重复（第 1 条已用）",)),
    )
    assert found.read == 3
