"""The report as data: JSON (exact counts, for machines and tests), CSV and XLSX (what
government offices pass around: a sheet per table, a native bar chart of the rankings)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font, PatternFill

from domain.reporting import Count, KbUse, Rates, Report, Row

RATE_COLUMNS = (
    ("派单量", "dispatched"),
    ("响应率", "response_rate"),
    ("办结率", "completion_rate"),
    ("按期办结率", "on_time_rate"),
    ("解决率", "solved_rate"),
    ("满意率", "satisfaction_rate"),
    ("超期数", "overdue"),
    ("重办次数", "reworks"),
    ("退单次数", "returns"),
    ("平均办理时长(工作小时)", "average_handling_hours"),
)


def rates_dict(rates: Rates) -> dict[str, Any]:
    counts = {k: v for k, v in asdict(rates).items() if k != "weights"}
    computed = {
        name: getattr(rates, name)
        for name in (
            "response_rate",
            "completion_rate",
            "on_time_rate",
            "solved_rate",
            "satisfaction_rate",
            "average_handling_hours",
        )
    }
    return counts | computed


def _row(row: Row) -> dict[str, Any]:
    return {"key": row.key, "name": row.name, "score": row.score, "rates": rates_dict(row.rates)}


def _count(count: Count) -> dict[str, Any]:
    return {"key": count.key, "name": count.name, "current": count.current, "previous": count.previous}


def _kb(use: KbUse) -> dict[str, Any]:
    return {**asdict(use), "valid_to": use.valid_to and use.valid_to.isoformat()}


def report_dict(report: Report) -> dict[str, Any]:
    period = report.period
    return {
        "title": report.title,
        "period": {
            "kind": period.kind.value,
            "first": period.first.isoformat(),
            "last": period.last.isoformat(),
        },
        "label": period.label,
        "as_of": report.as_of.isoformat(),
        "basically_satisfied_weight": report.weights.basically_satisfied,
        "received": report.received,
        "received_previous": report.received_previous,
        "dispositions": report.dispositions,
        "instant_rate": report.instant_rate,
        "kb_used": [_kb(u) for u in report.kb_used],
        "kb_out_of_date": [_kb(u) for u in report.kb_out_of_date],
        "totals": rates_dict(report.totals),
        "totals_previous": rates_dict(report.totals_previous),
        "units": [_row(r) for r in report.units],
        "best": [r.key for r in report.best],
        "worst": [r.key for r in report.worst],
        "towns": [_row(r) for r in report.towns],
        "categories": [_row(r) for r in report.categories],
        "categories_received": [_count(c) for c in report.categories_received],
        "towns_received": [_count(c) for c in report.towns_received],
        "places_received": [_count(c) for c in report.places_received],
        "trend": {"days": [d.isoformat() for d in report.trend_days], "series": report.trend},
        "outstanding_total": report.outstanding_total,
        "outstanding": [
            {
                **asdict(o),
                "received_at": o.received_at.isoformat(),
                "due_at": o.due_at and o.due_at.isoformat(),
            }
            for o in report.outstanding
        ],
        "definitions": dict(report.definitions),
    }


def render_json(report: Report) -> str:
    return json.dumps(report_dict(report), ensure_ascii=False, indent=2)


def _tables(report: Report) -> list[tuple[str, list[str], list[list[Any]]]]:
    """Each table of the report: its name, header and rows, rates as fractions."""
    head = [name for name, _ in RATE_COLUMNS]

    def rows(items: list[Row], with_score: bool) -> list[list[Any]]:
        return [
            [r.name, *([round(r.score, 1) if r.score is not None else None] if with_score else [])]
            + [getattr(r.rates, attr) for _, attr in RATE_COLUMNS]
            for r in items
        ]

    totals = [["全部", *[getattr(report.totals, attr) for _, attr in RATE_COLUMNS]]]
    counts_head = ["名称", "本期受理", "上期受理", "增减"]

    def counted(items: list[Count]) -> list[list[Any]]:
        return [[c.name, c.current, c.previous, c.growth] for c in items]

    outstanding = [
        [
            o.ticket_id,
            o.received_at.isoformat(),
            o.category,
            o.town,
            o.lead,
            o.status,
            "、".join(o.flags),
            o.text,
        ]
        for o in report.outstanding
    ]
    return [
        ("总体", ["范围", *head], totals),
        ("单位排名", ["单位", "综合得分", *head], rows(report.units, True)),
        ("属地", ["属地", *head], rows(report.towns, False)),
        ("类别", ["类别", *head], rows(report.categories, False)),
        ("热点类别", counts_head, counted(report.categories_received)),
        ("热点属地", counts_head, counted(report.towns_received)),
        ("热点地点", counts_head, counted(report.places_received)),
        (
            "即办与知识库",
            ["条目", "标题", "责任单位", "即办引用", "回访不满意", "已过期"],
            [[u.entry_id, u.title, u.unit, u.used, u.wanting, u.out_of_date] for u in report.kb_used],
        ),
        ("突出问题", ["工单", "受理时间", "类别", "属地", "牵头单位", "状态", "问题", "诉求"], outstanding),
        ("指标口径", ["指标", "定义"], [list(d) for d in report.definitions]),
    ]


# A cell a spreadsheet would run as a formula (=HYPERLINK(…), +cmd, -2+3, @SUM): citizens' words
# reach the outstanding table, so every text cell is kept text (OWASP's CSV injection advice).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def _csv_cell(value: Any) -> Any:
    return f"'{value}" if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def render_csv(report: Report) -> str:
    """All tables in one CSV, each row led by its table's name (UTF-8 with BOM for Excel)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for name, head, rows in _tables(report):
        writer.writerow(["表", *head])
        writer.writerows([name, *map(_csv_cell, row)] for row in rows)
    return "\ufeff" + out.getvalue()


def render_xlsx(report: Report, generated_at: datetime) -> bytes:
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for name, head, rows in _tables(report):
        sheet = book.create_sheet(name)
        sheet.append([f"{report.title} {report.period.label}"])
        sheet["A1"].font = Font(bold=True, size=14)
        sheet.append(head)
        for cell in sheet[2]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="F6F7F9")
        for row in rows:
            sheet.append(row)
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text, never a formula (openpyxl reads "=…" as one)
        sheet.column_dimensions["A"].width = 24
        for column, (_, attr) in enumerate(RATE_COLUMNS, start=2 if name != "单位排名" else 3):
            if attr.endswith("_rate"):
                for (cell,) in sheet.iter_rows(min_row=3, min_col=column, max_col=column):
                    cell.number_format = "0.0%"
    _ranking_chart(book["单位排名"], len(report.ranked))
    book["总体"].append([])
    book["总体"].append(["数据截至", report.as_of.isoformat(), "生成于", generated_at.isoformat()])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _ranking_chart(sheet: Any, ranked: int) -> None:
    if ranked == 0:
        return
    chart = BarChart()
    chart.type = "bar"
    chart.title = "承办单位综合得分"
    chart.y_axis.title = "综合得分"
    data = Reference(sheet, min_col=2, min_row=2, max_row=2 + ranked)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=3, max_row=2 + ranked))
    chart.height, chart.width = 10, 18
    sheet.add_chart(chart, "N3")
