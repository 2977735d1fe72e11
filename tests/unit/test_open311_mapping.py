"""Open311 GeoReport v2 mapping: categories as services, tickets as service requests, POSTs as appeals."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TypedDict
from xml.etree import ElementTree as ET

import pytest

from domain.intake.ids import receive_command
from domain.jurisdiction import Jurisdiction
from domain.open311 import Open311Error, appeal_from_request, service_definition, service_request, split_token
from domain.open311.query import MAX_REQUESTS, PAGE_SIZE, RequestQuery, parse_request_query
from domain.open311.services import services
from domain.privacy import text_for_units
from domain.ticket import TicketState, TicketStatus
from domain.ticket.decide import decide
from domain.ticket.orders import work_order
from schemas.appeal import Appeal, Caller, Channel, Location
from schemas.triage import TriageDecision
from web.open311.render import xml_document

NOW = datetime(2026, 3, 2, 1, 15, tzinfo=UTC)
PHONE = "18939595216"
TEXT = f"白马桥街道凤凰城小区门口下水道堵塞，污水外溢到路面，请疏通。回电{PHONE}"
APPEAL = Appeal(
    channel="web",
    source_id="open311-a1",
    received_at=NOW,
    text=TEXT,
    address="凤凰城小区",
    caller=Caller(name="向德华", phone=PHONE),
    location=Location(lat=28.13, lon=112.57),
)
SEWER = "下水道堵塞污水外溢"


def ticket(**overrides: object) -> TicketState:
    """A ticket as the real decision makes it from the triage given."""
    base: dict[str, object] = {
        "appeal_type": "help",
        "category": "drainage.sewer",
        "urgency": "normal",
        "town": "baimaqiao",
        "disposition": "dispatch",
        "lead": "zjj",
        "co": ("baimaqiao",),
        "confidence": 0.9,
    }
    decision = TriageDecision.model_validate({**base, **overrides})
    state = decide(None, receive_command(APPEAL, "20260302-01-000007", decision, NOW), NOW).state
    assert state is not None
    return state


# --- services ------------------------------------------------------------------------


def test_every_category_is_one_realtime_service_without_metadata(jurisdiction: Jurisdiction) -> None:
    listed = services(jurisdiction)
    assert [s.service_code for s in listed] == [c.code for c in jurisdiction.categories]
    assert [s.service_name for s in listed] == [c.name for c in jurisdiction.categories]
    assert {(s.type, s.metadata) for s in listed} == {("realtime", False)}


@pytest.mark.parametrize(
    ("code", "group"),
    [
        ("drainage.sewer", "市住房和城乡建设局"),
        ("utility.water", "城区供水公司"),
        ("noise.commercial", "属地街道（乡镇）"),
        ("policy.consult", "12345热线中心"),
    ],
)
def test_a_service_is_grouped_under_its_lead_unit(jurisdiction: Jurisdiction, code: str, group: str) -> None:
    service = next(s for s in services(jurisdiction) if s.service_code == code)
    assert service.group == group
    assert service.as_fields()["metadata"] is False


def test_a_service_definition_has_no_attributes_and_an_unknown_code_is_404(
    jurisdiction: Jurisdiction,
) -> None:
    assert service_definition("drainage.sewer", jurisdiction) == {
        "service_code": "drainage.sewer",
        "attributes": [],
    }
    with pytest.raises(Open311Error) as raised:
        service_definition("no.such", jurisdiction)
    assert raised.value.code == 404


# --- tickets as service requests --------------------------------------------------------


@pytest.mark.parametrize(
    ("triage", "status", "notes", "agency"),
    [
        ({}, "open", "已派单至市住房和城乡建设局，协办：白马桥街道", "市住房和城乡建设局"),
        ({"co": ()}, "open", "已派单至市住房和城乡建设局", "市住房和城乡建设局"),
        ({"disposition": "manual", "lead": None, "co": ()}, "open", "已受理，等待人工派单", "12345热线中心"),
        (
            {"category": "policy.consult", "disposition": "instant", "lead": None, "co": ()},
            "closed",
            "热线已即时答复办结",
            "12345热线中心",
        ),
        (
            {"category": "emergency.fire", "disposition": "transfer", "transfer_to": "119"},
            "closed",
            "已转119处理",
            "12345热线中心",
        ),
    ],
)
def test_a_ticket_is_open_or_closed_with_chinese_notes_and_the_unit_responsible(
    jurisdiction: Jurisdiction, triage: dict[str, object], status: str, notes: str, agency: str
) -> None:
    request = service_request(ticket(**triage), jurisdiction)
    assert (request.status, request.status_notes, request.agency_responsible) == (status, notes, agency)


@pytest.mark.parametrize(
    ("update", "status", "notes"),
    [
        ({"status": TicketStatus.SIGNED}, "open", "市住房和城乡建设局已签收，正在办理"),
        ({"status": TicketStatus.RETURNED}, "open", "承办单位申请退单，热线正在重新派单"),
        (
            {"status": TicketStatus.COMPLETED, "reply": f"已疏通。向德华您好，如有问题请拨{PHONE}"},
            "open",
            "市住房和城乡建设局已办结，等待回访。答复：已疏通。向**您好，如有问题请拨189****5216",
        ),
        ({"status": TicketStatus.DISSATISFIED}, "open", "回访不满意，热线正在研究重办"),
        ({"rework_count": 1}, "open", "已发回重办，已派单至市住房和城乡建设局，协办：白马桥街道"),
        ({"status": TicketStatus.CLOSED, "reply": "已疏通"}, "closed", "已办结。答复：已疏通"),
        (
            {"status": TicketStatus.CLOSED, "merged_into": "20260301-02-000001"},
            "closed",
            "已并入工单20260301-02-000001一并办理",
        ),
    ],
)
def test_the_lifecycle_after_dispatch_reads_in_the_notes(
    jurisdiction: Jurisdiction, update: dict[str, object], status: str, notes: str
) -> None:
    request = service_request(ticket().model_copy(update=update), jurisdiction)
    assert (request.status, request.status_notes) == (status, notes)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (f"我是向德华，电话{PHONE}，谢谢", "我是向**，电话189****5216，谢谢"),
        ("回电：１８９３９５９５２１６。", "回电：189****5216。"),
        ("门牌号12号，座机0731-5551234", "门牌号12号，座机0731-****1234"),  # landlines are personal too
    ],
)
def test_public_text_masks_phones_and_the_callers_name_and_keeps_full_width_punctuation(
    text: str, shown: str
) -> None:
    assert text_for_units(text, Caller(name="向德华", phone=PHONE), protected=False) == shown


def test_a_dispatched_ticket_maps_field_by_field(jurisdiction: Jurisdiction) -> None:
    fields = service_request(ticket(), jurisdiction).as_fields()
    assert fields == {
        "service_request_id": "20260302-01-000007",
        "status": "open",
        "status_notes": "已派单至市住房和城乡建设局，协办：白马桥街道",
        "service_name": SEWER,
        "service_code": "drainage.sewer",
        "description": "白马桥街道凤凰城小区门口下水道堵塞，污水外溢到路面，请疏通。回电189****5216",
        "agency_responsible": "市住房和城乡建设局",
        "requested_datetime": "2026-03-02T09:15:00+08:00",
        "updated_datetime": "2026-03-02T09:15:00+08:00",
        "address": "凤凰城小区",
        "lat": 28.13,
        "long": 112.57,
    }


def test_the_expected_datetime_is_the_completion_limit_only_when_there_is_one(
    jurisdiction: Jurisdiction,
) -> None:
    state = ticket()
    assert "expected_datetime" not in service_request(state, jurisdiction).as_fields()
    due = service_request(state, jurisdiction, expected_at=NOW + timedelta(days=7)).as_fields()
    assert due["expected_datetime"] == "2026-03-09T09:15:00+08:00"


@pytest.mark.parametrize("triage", [{}, {"appeal_type": "report"}, {"disposition": "manual", "lead": None}])
def test_no_service_request_carries_the_callers_name_or_phone(
    jurisdiction: Jurisdiction, triage: dict[str, object]
) -> None:
    shown = json.dumps(service_request(ticket(**triage), jurisdiction).as_fields(), ensure_ascii=False)
    assert PHONE not in shown and "向德华" not in shown and "德华" not in shown


@pytest.mark.parametrize(
    "triage",
    [{"appeal_type": "report"}, {"appeal_type": "complaint", "caller_withheld": True}],
    ids=["a_report", "what_may_be_a_report"],
)
def test_a_reports_words_and_place_are_withheld(
    jurisdiction: Jurisdiction, triage: dict[str, object]
) -> None:
    fields = service_request(ticket(**triage), jurisdiction).as_fields()
    assert fields["description"] == "举报内容不予公开"
    assert not {"address", "lat", "long"} & set(fields)


@pytest.mark.parametrize(
    ("triage", "caller"),
    [
        ({"appeal_type": "complaint"}, {"name": "向**", "phone": "189****5216"}),
        ({"appeal_type": "report"}, None),
        ({"appeal_type": "complaint", "caller_withheld": True}, None),
    ],
    ids=["a_complaint", "a_report", "what_may_be_a_report"],
)
def test_a_work_order_names_no_caller_when_the_reporter_is_protected(
    jurisdiction: Jurisdiction, triage: dict[str, object], caller: dict[str, str] | None
) -> None:
    order = work_order(ticket(**triage), "zjj", "lead", "order", None, "o-1", NOW, jurisdiction)
    assert (order.caller.model_dump() if order.caller else None) == caller
    assert PHONE not in order.text


# --- POSTed service requests as appeals -------------------------------------------------

FORM = {
    "service_code": "drainage.sewer",
    "description": "小区门口下水道堵塞",
    "address_string": "凤凰城小区",
    "lat": "28.13",
    "long": "112.57",
    "first_name": "德华",
    "last_name": "向",
    "phone": PHONE,
    "email": "x@example.org",
}


def test_a_posted_request_becomes_a_web_appeal_led_by_the_chosen_service(jurisdiction: Jurisdiction) -> None:
    appeal = appeal_from_request(FORM, jurisdiction, "open311-k1", NOW, "web")
    assert appeal == Appeal(
        channel="web",
        source_id="open311-k1",
        received_at=NOW,
        text=f"【{SEWER}】小区门口下水道堵塞",
        address="凤凰城小区",
        caller=Caller(name="向德华", phone=PHONE),
        location=Location(lat=28.13, lon=112.57),
    )
    assert appeal.intake_key == "web:open311-k1"


@pytest.mark.parametrize(
    ("changes", "channel", "name", "location"),
    [
        # The channel is the intake key's, whatever the form says (a device_id included).
        ({"device_id": "phone-7"}, "app", "向德华", Location(lat=28.13, lon=112.57)),
        ({"device_id": "phone-7"}, "web", "向德华", Location(lat=28.13, lon=112.57)),
        ({"first_name": "John", "last_name": "Smith"}, "web", "John Smith", Location(lat=28.13, lon=112.57)),
        ({"first_name": "", "lat": "", "long": ""}, "wechat", "向", None),
        ({"jurisdiction_id": "sample-county"}, "web", "向德华", Location(lat=28.13, lon=112.57)),
    ],
)
def test_optional_fields_choose_name_and_location_and_the_key_the_channel(
    jurisdiction: Jurisdiction,
    changes: dict[str, str],
    channel: Channel,
    name: str,
    location: Location | None,
) -> None:
    appeal = appeal_from_request({**FORM, **changes}, jurisdiction, "k", NOW, channel)
    assert (appeal.channel, appeal.caller.name, appeal.location) == (channel, name, location)


@pytest.mark.parametrize(
    ("changes", "code", "mentions"),
    [
        ({"service_code": ""}, 400, "service_code is required"),
        ({"service_code": "no.such"}, 404, "service_code no.such not found"),
        ({"description": "   "}, 400, "description is required"),
        ({"long": ""}, 400, "lat and long must be sent together"),
        ({"lat": "north"}, 400, "invalid lat/long"),
        ({"lat": "95"}, 400, "invalid lat/long"),
        ({"jurisdiction_id": "other-city"}, 404, "jurisdiction_id other-city not found"),
        ({"phone": "1" * 41}, 400, "phone:"),
        ({"description": "x" * 20_001}, 400, "description:"),
    ],
)
def test_a_bad_post_is_an_open311_error_with_the_spec_code(
    jurisdiction: Jurisdiction, changes: dict[str, str], code: int, mentions: str
) -> None:
    with pytest.raises(Open311Error) as raised:
        appeal_from_request({**FORM, **changes}, jurisdiction, "k", NOW, "web")
    assert raised.value.code == code
    assert mentions in raised.value.description
    assert PHONE not in raised.value.description


@pytest.mark.parametrize(
    ("token", "parsed"),
    [
        ("web:open311-k1", ("web", "open311-k1")),
        ("app:a:b", ("app", "a:b")),
        ("20260302-01-000007", None),
        ("fax:1", None),
        ("web:", None),
    ],
)
def test_a_token_is_an_intake_key(token: str, parsed: tuple[str, str] | None) -> None:
    assert split_token(token) == parsed


# --- GET requests filters ----------------------------------------------------------------

LOCAL = "Asia/Shanghai"


class Page(TypedDict):
    limit: int


PAGE: Page = {"limit": PAGE_SIZE}


@pytest.mark.parametrize(
    ("params", "query"),
    [
        ({}, RequestQuery(received_from=NOW - timedelta(days=90), received_to=NOW, **PAGE)),
        (
            {"service_request_id": "A, B,A", "status": "closed", "service_code": "x", "page": "3"},
            RequestQuery(ticket_ids=("A", "B")),
        ),
        (
            {"service_code": "drainage.sewer,utility.water", "status": "open"},
            RequestQuery(
                service_codes=("drainage.sewer", "utility.water"),
                received_from=NOW - timedelta(days=90),
                received_to=NOW,
                status="open",
                **PAGE,
            ),
        ),
        (
            {"start_date": "2026-03-01T00:00:00+08:00", "end_date": "2026-03-02", "status": "open,closed"},
            RequestQuery(
                received_from=datetime(2026, 2, 28, 16, tzinfo=UTC),
                received_to=datetime(2026, 3, 1, 16, tzinfo=UTC),
                **PAGE,
            ),
        ),
        (
            {"start_date": "2026-03-01T00:00:00Z"},
            RequestQuery(received_from=NOW - timedelta(hours=25, minutes=15), received_to=NOW, **PAGE),
        ),
        (
            {"page": "3", "page_size": "200"},
            RequestQuery(received_from=NOW - timedelta(days=90), received_to=NOW, limit=200, offset=400),
        ),
    ],
)
def test_request_filters_default_to_the_last_90_days_a_page_at_a_time(
    params: dict[str, str], query: RequestQuery
) -> None:
    assert parse_request_query(params, NOW, LOCAL) == query


@pytest.mark.parametrize(
    ("params", "mentions"),
    [
        ({"status": "pending"}, "status must be open or closed"),
        ({"start_date": "yesterday"}, "start_date is not an ISO 8601 datetime"),
        ({"start_date": "2026-03-02", "end_date": "2026-03-01"}, "start_date is after end_date"),
        ({"service_request_id": ",".join(map(str, range(MAX_REQUESTS + 1)))}, "at most 1000"),
        ({"page": "0"}, "page must be a whole number from 1 to 1000"),
        ({"page": "1" * 5000}, "page must be a whole number from 1 to 1000"),
        ({"page_size": "201"}, "page_size must be a whole number from 1 to 200"),
        ({"page_size": "-5"}, "page_size must be a whole number from 1 to 200"),
        ({"page_size": "１０"}, "page_size must be a whole number from 1 to 200"),
    ],
)
def test_bad_request_filters_are_400(params: dict[str, str], mentions: str) -> None:
    with pytest.raises(Open311Error) as raised:
        parse_request_query(params, NOW, LOCAL)
    assert raised.value.code == 400 and mentions in raised.value.description


# --- XML documents ------------------------------------------------------------------------


def test_xml_escapes_markup_drops_characters_xml_cannot_carry_and_keeps_empty_lists() -> None:
    document = xml_document(
        "service_requests",
        "request",
        [{"description": "a<b>&\x01c", "metadata": False, "lat": 28.5, "attributes": []}],
    )
    assert document.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    request = ET.fromstring(document).find("request")
    assert request is not None
    assert [(e.tag, e.text) for e in request] == [
        ("description", "a<b>&c"),
        ("metadata", "false"),
        ("lat", "28.5"),
        ("attributes", None),
    ]
