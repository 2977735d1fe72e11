"""Tickets as Open311 GeoReport v2 service requests: what a citizen may read about an appeal.

The GeoReport API is public, so what leaves here is public text: phone numbers and
the caller's own name masked wherever they were written, and a report's (举报)
words and place withheld, since they could name the reporter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from domain.jurisdiction import Jurisdiction
from domain.open311.services import Fields
from domain.privacy.masking import shown_address, shown_text, text_for_units
from domain.ticket.fold import TicketState

# What an Open311 client sees as `closed`: the hotline answered it, handed it to an
# emergency line, or closed it. Every other status, present or future, is `open`.
CLOSED_STATUSES = frozenset({"instant", "transferred", "closed"})
HOTLINE_UNIT = "hotline"
REPORT_WITHHELD = "举报内容不予公开"


@dataclass(frozen=True)
class ServiceRequest(Fields):
    service_request_id: str
    status: str
    status_notes: str
    service_name: str
    service_code: str
    description: str
    agency_responsible: str
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str | None
    address: str | None
    lat: float | None
    long: float | None


def service_request(
    state: TicketState, jurisdiction: Jurisdiction, expected_at: datetime | None = None
) -> ServiceRequest:
    """A ticket as a GeoReport service request; `expected_at` is its completion limit, when set."""
    appeal = state.appeal
    code = state.category or state.triage.category  # as dispatched: a person may have corrected it
    category = jurisdiction.category_by_code.get(code)
    tz = jurisdiction.timezone
    secret = state.triage.reporter_protected
    location = None if secret else appeal.location
    return ServiceRequest(
        service_request_id=state.ticket_id,
        status="closed" if state.status.value in CLOSED_STATUSES else "open",
        status_notes=status_notes(state, jurisdiction),
        service_name=category.name if category else code,
        service_code=code,
        description=REPORT_WITHHELD if secret else shown_text(state),
        agency_responsible=jurisdiction.unit_name(state.lead or HOTLINE_UNIT),
        requested_datetime=local_iso(state.received_at, tz),
        updated_datetime=local_iso(state.updated_at, tz),
        expected_datetime=local_iso(expected_at, tz) if expected_at else None,
        address=None if secret else shown_address(state) or None,
        lat=location.lat if location else None,
        long=location.lon if location else None,
    )


def status_notes(state: TicketState, jurisdiction: Jurisdiction) -> str:
    """Where the appeal stands, in Chinese, with the unit's reply once it has completed."""
    status, lead = state.status.value, jurisdiction.unit_name(state.lead or HOTLINE_UNIT)
    if status == "dispatched":
        note = ("已发回重办，" if state.rework_count else "") + f"已派单至{lead}"
        if state.co:
            note += "，协办：" + "、".join(jurisdiction.unit_name(unit) for unit in state.co)
        return note
    if status == "transferred":
        return f"已转{state.triage.transfer_to or '紧急热线'}处理"
    if status == "closed" and state.merged_into:
        return f"已并入工单{state.merged_into}一并办理"
    note = _NOTES.get(status, "办理中").format(lead=lead)
    if state.reply and status in ("completed", "closed"):
        note += f"。答复：{text_for_units(state.reply, state.appeal.caller, protected=False)}"
    return note


_NOTES = {
    "received": "已受理，正在分派",
    "manual": "已受理，等待人工派单",
    "signed": "{lead}已签收，正在办理",
    "returned": "承办单位申请退单，热线正在重新派单",
    "completed": "{lead}已办结，等待回访",
    "dissatisfied": "回访不满意，热线正在研究重办",
    "instant": "热线已即时答复办结",
    "closed": "已办结",
}


def local_iso(moment: datetime, timezone: str) -> str:
    """ISO 8601 with the jurisdiction's offset, as the spec's examples (`…T08:15:30+08:00`)."""
    return moment.astimezone(ZoneInfo(timezone)).isoformat(timespec="seconds")
