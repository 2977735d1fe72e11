"""Reading a knowledge base (知识库) file: entries, and what was wrong with each one, in Chinese.

Pure: the YAML file comes in parsed (a mapping with `entries:`), the CSV as text. An entry is
refused with every reason at once: its fields (pydantic's errors, said in Chinese), a unit or a
category the jurisdiction does not have, an id an earlier entry of the file already took.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from domain.jurisdiction import Jurisdiction
from schemas.kb import KbEntry

CSV_COLUMNS = (
    "entry_id",
    "title",
    "unit",
    "categories",
    "tags",
    "questions",
    "answer",
    "source_document",
    "source_article",
    "valid_from",
    "valid_to",
)
LIST_SEPARATOR = "|"
FIELD_NAMES = {
    "entry_id": "条目编号",
    "title": "标题",
    "unit": "单位",
    "categories": "分类",
    "tags": "标签",
    "questions": "问题",
    "answer": "答案",
    "source": "依据",
    "source.document": "依据文件",
    "source.article": "依据条款",
    "valid_from": "生效日期",
    "valid_to": "失效日期",
}
_DATE_ERRORS = frozenset(
    {"date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact", "date_type"}
)


class KbFileError(ValueError):
    """The file as a whole cannot be read as a knowledge base (no `entries:`, missing columns)."""


@dataclass(frozen=True)
class Refused:
    """An entry not imported: where it is in the file, its id if it has one, and every reason."""

    where: str  # 第 3 条 (YAML) or 第 4 行 (CSV)
    entry_id: str | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class KbFile:
    """What a file holds: the valid entries, in the file's order, and the refused ones."""

    entries: tuple[KbEntry, ...]
    refused: tuple[Refused, ...]

    @property
    def read(self) -> int:
        return len(self.entries) + len(self.refused)


def entries_from_document(data: object, jurisdiction: Jurisdiction) -> KbFile:
    """The entries of a parsed YAML document `{entries: [...]}`; raises `KbFileError`."""
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise KbFileError("文件须是一个映射，含 entries: 条目列表")
    return _checked([(f"第 {n} 条", item) for n, item in enumerate(data["entries"], start=1)], jurisdiction)


def entries_from_csv(text: str, jurisdiction: Jurisdiction) -> KbFile:
    """The entries of a CSV file with the `CSV_COLUMNS` (lists separated by `|`); raises `KbFileError`."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    columns = [name.strip() for name in reader.fieldnames or ()]
    missing = [name for name in CSV_COLUMNS if name not in columns]
    unknown = [name for name in columns if name not in CSV_COLUMNS]
    if missing or unknown:
        said = [f"缺少列：{'、'.join(missing)}"] if missing else []
        said += [f"不认识的列：{'、'.join(unknown)}"] if unknown else []
        raise KbFileError("；".join(said) + f"（应为 {','.join(CSV_COLUMNS)}）")
    rows: list[tuple[str, object]] = []
    for row in reader:
        cells = {name.strip(): (value or "").strip() for name, value in row.items() if name is not None}
        rows.append((f"第 {reader.line_num} 行", _from_cells(cells)))
    return _checked(rows, jurisdiction)


def _from_cells(cells: dict[str, str]) -> dict[str, object]:
    def listed(name: str) -> list[str]:
        return [part.strip() for part in cells[name].split(LIST_SEPARATOR) if part.strip()]

    entry: dict[str, object] = {
        name: cells[name] for name in ("entry_id", "title", "unit", "answer", "valid_from")
    }
    entry |= {name: listed(name) for name in ("categories", "tags", "questions")}
    source = {"document": cells["source_document"]}
    entry["source"] = source | ({"article": cells["source_article"]} if cells["source_article"] else {})
    if cells["valid_to"]:
        entry["valid_to"] = cells["valid_to"]
    return entry


def _checked(items: Sequence[tuple[str, object]], jurisdiction: Jurisdiction) -> KbFile:
    entries: list[KbEntry] = []
    refused: list[Refused] = []
    first_at: dict[str, str] = {}
    for where, item in items:
        entry_id = _id_of(item)
        reasons: list[str] = []
        if entry_id is not None and entry_id in first_at:
            reasons.append(f"条目编号 {entry_id} 重复（{first_at[entry_id]}已用）")
        try:
            entry = KbEntry.model_validate(item) if isinstance(item, dict) else None
        except ValidationError as exc:
            entry = None
            reasons.extend(chinese_errors(exc))
        if not isinstance(item, dict):
            reasons.append("不是一个条目（应为含 entry_id、title 等字段的映射）")
        if isinstance(item, dict):
            reasons.extend(reference_problems(item.get("unit"), item.get("categories"), jurisdiction))
        if entry_id is not None:
            first_at.setdefault(entry_id, where)
        if reasons or entry is None:
            refused.append(Refused(where=where, entry_id=entry_id, reasons=tuple(reasons)))
        else:
            entries.append(entry)
    return KbFile(entries=tuple(entries), refused=tuple(refused))


def _id_of(item: object) -> str | None:
    value = item.get("entry_id") if isinstance(item, dict) else None
    return value if isinstance(value, str) and value else None


def reference_problems(unit: object, categories: object, jurisdiction: Jurisdiction) -> tuple[str, ...]:
    """A unit code or category codes the jurisdiction does not have, said in Chinese."""
    problems = []
    if isinstance(unit, str) and unit and unit not in jurisdiction.unit_codes:
        problems.append(f"单位代码 {unit} 不是本辖区的单位")
    known = jurisdiction.category_by_code
    if isinstance(categories, list | tuple):
        problems.extend(
            f"分类代码 {code} 不是本辖区的分类"
            for code in categories
            if isinstance(code, str) and code and code not in known
        )
    return tuple(problems)


def chinese_errors(exc: ValidationError) -> tuple[str, ...]:
    """pydantic's errors for a `KbEntry`, each as `字段：为什么`, values not echoed."""
    errors = exc.errors()
    # A list whose items failed is also "too short" to pydantic: the items' errors say it better.
    items_failed = {
        error["loc"][:-1] for error in errors if error["loc"] and isinstance(error["loc"][-1], int)
    }
    return tuple(
        f"{_field(error['loc'])}：{_why(error)}"
        for error in errors
        if not (error["type"] == "too_short" and error["loc"] in items_failed)
    )


def _field(loc: tuple[int | str, ...]) -> str:
    names = [str(part) for part in loc if isinstance(part, str)]
    if not names:
        return "条目"
    name = FIELD_NAMES.get(".".join(names), ".".join(names))
    items = [f"第 {part + 1} 项" for part in loc if isinstance(part, int)]
    return name + "".join(items)


def _why(error: Any) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    said = {
        "missing": "缺少（必填）",
        "extra_forbidden": "不认识的字段",
        "string_too_short": "不能为空",
        "string_type": "应为文字",
        "tuple_type": "应为列表",
        "list_type": "应为列表",
        "model_type": "应为映射（document、article）",
        "model_attributes_type": "应为映射（document、article）",
        "dict_type": "应为映射",
    }
    if kind in said:
        return said[kind]
    if kind == "string_too_long":
        return f"过长（最多 {ctx.get('max_length')} 个字符）"
    if kind == "too_short":
        return f"至少要有 {ctx.get('min_length')} 项"
    if kind == "too_long":
        return f"最多 {ctx.get('max_length')} 项"
    if kind in _DATE_ERRORS:
        return "不是有效日期（应为 YYYY-MM-DD，如 2024-01-01）"
    message = str(error["msg"])
    if "entry id" in message:
        return "只能由 a–z、0–9、'.'、'_'、'-' 组成，以字母或数字开头，1–80 个字符"
    if "valid_to is before valid_from" in message:
        return "失效日期早于生效日期"
    return f"无效（{message}）"


__all__ = [
    "CSV_COLUMNS",
    "KbFile",
    "KbFileError",
    "Refused",
    "chinese_errors",
    "entries_from_csv",
    "entries_from_document",
    "reference_problems",
]
