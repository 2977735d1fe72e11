"""the dispatch meeting list: its meeting days, and the report a leader reads."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.reporting.meeting_list import (
    ListedTicket,
    MeetingList,
    UnitOverdue,
    is_dispatch_day,
    latest_dispatch_day,
    meeting_list_alert,
    previous_dispatch_day,
    render,
)
from tests.unit.timertools import COUNTY


@pytest.mark.parametrize(
    ("today", "meeting", "previous"),
    [
        (date(2026, 12, 6), date(2026, 12, 6), date(2026, 11, 26)),
        (date(2026, 12, 15), date(2026, 12, 6), date(2026, 11, 26)),
        (date(2026, 12, 16), date(2026, 12, 16), date(2026, 12, 6)),
        (date(2027, 1, 5), date(2026, 12, 26), date(2026, 12, 16)),
    ],
)
def test_meetings_fall_on_the_6th_16th_and_26th(today: date, meeting: date, previous: date) -> None:
    assert latest_dispatch_day(today, COUNTY) == meeting
    assert previous_dispatch_day(meeting, COUNTY) == previous
    assert is_dispatch_day(meeting, COUNTY) and not is_dispatch_day(date(2026, 12, 7), COUNTY)


LISTING = MeetingList(
    meeting_date=date(2026, 12, 6),
    since=date(2026, 11, 26),
    compiled_at=datetime(2026, 12, 6, 0, 30, tzinfo=UTC),
    supervised=(
        ListedTicket(
            ticket_id="T1",
            category="drainage.sewer",
            town="baimaqiao",
            lead="zjj",
            status="signed",
            detail="督办（complete），自 2026-12-01",
        ),
    ),
    units_most_overdue=(UnitOverdue(unit="zjj", overdue=3), UnitOverdue(unit="cgj", overdue=1)),
)


def test_the_report_names_tickets_places_and_units_in_chinese() -> None:
    report = render(LISTING, COUNTY)
    lines = report.splitlines()
    assert lines[0] == f"# {COUNTY.jurisdiction.name} 领导调度会问题清单（2026-12-06）"
    assert "## 督办工单（1）" in lines and "## 多人反映（未结）（0）" in lines
    ticket = next(line for line in lines if line.startswith("- T1"))
    assert ticket == (
        f"- T1 下水道堵塞污水外溢（白马桥街道，牵头：{COUNTY.unit_name('zjj')}，signed）："
        "督办（complete），自 2026-12-01"
    )
    assert f"1. {COUNTY.unit_name('zjj')}（zjj）：超期 3 次" in lines
    plain = render(LISTING, COUNTY, markdown=False)
    assert "【督办工单（1）】" in plain and "#" not in plain


def test_the_list_is_published_once_per_meeting_with_its_counts() -> None:
    alert = meeting_list_alert(LISTING, COUNTY)
    assert (alert.alert_id, alert.kind, alert.ticket_id) == (
        f"leadership:{COUNTY.code}:2026-12-06",
        "leadership_list",
        None,
    )
    assert alert.details == {
        "meeting_date": "2026-12-06",
        "since": "2026-11-26",
        "supervised": "1",
        "clusters": "0",
        "repeated_dissatisfaction": "0",
        "units_with_overdue": "2",
    }
