"""the dispatch meeting list (逢"6"调度): the outstanding problems for the meeting held on
the jurisdiction's `leadership_dispatch_days` (the 6th, 16th and 26th).

Four parts: tickets under supervision (督办), open clusters (多人反映), repeated
dissatisfaction (反复不满意), and the units with the most overdue limits since the last
meeting. Pure: the rows are read by `infra.postgres.meeting_list`, the dates are arguments.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from domain.jurisdiction import Jurisdiction
from schemas.alerts import Alert


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ListedTicket(_Frozen):
    """One ticket on the list, with what puts it there (`detail`, for people)."""

    ticket_id: str
    category: str | None
    town: str | None
    lead: str | None
    status: str
    detail: str


class UnitOverdue(_Frozen):
    unit: str
    overdue: int


class MeetingList(_Frozen):
    """The list for one meeting; `since` is the previous meeting day (overdue counted after it)."""

    meeting_date: date
    since: date
    compiled_at: datetime
    supervised: tuple[ListedTicket, ...] = ()
    clusters: tuple[ListedTicket, ...] = ()
    repeated_dissatisfaction: tuple[ListedTicket, ...] = ()
    units_most_overdue: tuple[UnitOverdue, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        return {
            "supervised": len(self.supervised),
            "clusters": len(self.clusters),
            "repeated_dissatisfaction": len(self.repeated_dissatisfaction),
            "units_with_overdue": len(self.units_most_overdue),
        }


def is_dispatch_day(day: date, jurisdiction: Jurisdiction) -> bool:
    return day.day in jurisdiction.leadership_dispatch_days


def latest_dispatch_day(on_or_before: date, jurisdiction: Jurisdiction) -> date:
    """The last meeting day on or before a date (the date itself with no meeting days configured)."""
    if not jurisdiction.leadership_dispatch_days:
        return on_or_before
    day = on_or_before
    while not is_dispatch_day(day, jurisdiction):
        day -= timedelta(days=1)
    return day


def previous_dispatch_day(meeting: date, jurisdiction: Jurisdiction) -> date:
    """The meeting before `meeting`: where its overdue count starts."""
    if not jurisdiction.leadership_dispatch_days:
        return meeting - timedelta(days=10)
    return latest_dispatch_day(meeting - timedelta(days=1), jurisdiction)


def render(listing: MeetingList, jurisdiction: Jurisdiction, markdown: bool = True) -> str:
    """The list as a leader reads it, in Chinese: Markdown, or plain text."""
    name = jurisdiction.jurisdiction.name
    head = "# " if markdown else ""
    sub = "## " if markdown else "【"
    end = "" if markdown else "】"
    lines = [
        f"{head}{name} 领导调度会问题清单（{listing.meeting_date.isoformat()}）",
        "",
        f"编制时间：{listing.compiled_at.astimezone(ZoneInfo(jurisdiction.timezone)):%Y-%m-%d %H:%M}；"
        f"超期统计自 {listing.since.isoformat()} 起。",
        "",
    ]
    parts = (
        ("督办工单", listing.supervised),
        ("多人反映（未结）", listing.clusters),
        ("反复不满意", listing.repeated_dissatisfaction),
    )
    for title, tickets in parts:
        lines += [f"{sub}{title}（{len(tickets)}）{end}", ""]
        lines += [_ticket_line(t, jurisdiction) for t in tickets] or ["无。"]
        lines.append("")
    lines += [f"{sub}超期最多的单位{end}", ""]
    lines += [
        f"{n}. {jurisdiction.unit_name(u.unit)}（{u.unit}）：超期 {u.overdue} 次"
        for n, u in enumerate(listing.units_most_overdue, start=1)
    ] or ["无。"]
    return "\n".join(lines) + "\n"


def _ticket_line(ticket: ListedTicket, jurisdiction: Jurisdiction) -> str:
    category = jurisdiction.category_by_code.get(ticket.category or "")
    town = jurisdiction.town_by_code.get(ticket.town or "")
    lead = jurisdiction.unit_name(ticket.lead) if ticket.lead else "无"
    what = category.name if category else (ticket.category or "未分类")
    where = town.name if town else "属地未定"
    return f"- {ticket.ticket_id} {what}（{where}，牵头：{lead}，{ticket.status}）：{ticket.detail}"


def meeting_list_alert(listing: MeetingList, jurisdiction: Jurisdiction) -> Alert:
    """The list as an event on `alerts` (kind `leadership_list`), one id per meeting."""
    counts = listing.counts
    return Alert(
        alert_id=f"leadership:{jurisdiction.code}:{listing.meeting_date.isoformat()}",
        kind="leadership_list",
        severity="info",
        message=(
            f"领导调度会问题清单（{listing.meeting_date.isoformat()}）已编制："
            f"督办 {counts['supervised']} 件，"
            f"多人反映 {counts['clusters']} 件，反复不满意 {counts['repeated_dissatisfaction']} 件"
        ),
        raised_at=listing.compiled_at,
        details={"meeting_date": listing.meeting_date.isoformat(), "since": listing.since.isoformat()}
        | {name: str(count) for name, count in counts.items()},
    )


def due_for_compilation(now: datetime, jurisdiction: Jurisdiction, compile_from_hour: int = 8) -> date | None:
    """The meeting day whose list is due at `now` (a meeting day, from `compile_from_hour`
    local time), or None."""
    local = now.astimezone(ZoneInfo(jurisdiction.timezone))
    if is_dispatch_day(local.date(), jurisdiction) and local.hour >= compile_from_hour:
        return local.date()
    return None
