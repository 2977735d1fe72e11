"""Erasing one person, found by their mobile number, from appeals, tickets and recorded events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from domain.intake.ids import receive_command
from domain.privacy.erasure import ERASED, erase_appeal, erase_event_payload, erase_state, national_mobile
from domain.ticket.decide import decide
from schemas.appeal import Appeal, Caller
from schemas.events import Citizen
from schemas.triage import TriageDecision

NOW = datetime(2026, 3, 2, 1, 15, tzinfo=UTC)
MOBILE = "13807311234"
APPEAL = Appeal(
    channel="phone",
    source_id="c1",
    received_at=NOW,
    text=(
        "我是刘德华，玉潭中路垃圾箱破损，请回电 138-0731-1234，"
        "或打我爱人 139 0731 5678，身份证430102199001011234。"
    ),
    address="玉潭中路12号（刘德华家）",
    caller=Caller(name="刘德华", phone="+86 13807311234"),
)


@pytest.mark.parametrize(
    ("given", "mobile"),
    [
        ("13807311234", MOBILE),
        ("+86 138-0731-1234", MOBILE),
        ("１３８０７３１１２３４", MOBILE),
        ("0731-85551234", None),
    ],
)
def test_a_mobile_number_is_read_however_it_is_given(given: str, mobile: str | None) -> None:
    assert national_mobile(given) == mobile


def test_the_callers_appeal_loses_their_name_number_and_every_personal_number() -> None:
    erased = erase_appeal(APPEAL, MOBILE)
    assert erased is not None
    assert erased.caller == Caller()
    assert erased.text == (
        f"我是{ERASED}，玉潭中路垃圾箱破损，请回电 {ERASED}，"
        "或打我爱人 139****5678，身份证430*************34。"
    )
    assert erased.address == f"玉潭中路12号（{ERASED}家）"
    assert (erased.source_id, erased.received_at, erased.channel) == ("c1", NOW, "phone")


def test_an_appeal_that_only_writes_the_number_keeps_its_caller_and_one_that_does_not_is_untouched() -> None:
    neighbour = APPEAL.model_copy(update={"caller": Caller(name="王五", phone="13900001111")})
    erased = erase_appeal(neighbour, MOBILE)
    assert erased is not None and erased.caller == Caller(name="王五", phone="13900001111")
    assert ERASED in erased.text and "刘德华" in erased.text  # the name is erased only with the caller's own
    other = neighbour.model_copy(update={"text": "路灯不亮", "address": "玉潭中路"})
    assert erase_appeal(other, MOBILE) is None


def test_a_ticket_and_its_recorded_events_lose_the_person_everywhere() -> None:
    decision = TriageDecision.model_validate(
        {
            "appeal_type": "help",
            "category": "sanitation.garbage",
            "urgency": "normal",
            "town": "yutan",
            "disposition": "dispatch",
            "lead": "cgj",
            "co": ("yutan",),
            "confidence": 0.9,
        }
    )
    result = decide(None, receive_command(APPEAL, "T1", decision, NOW), NOW)
    assert result.state is not None
    citizen = Citizen(
        intake_key="phone:c9", ticket_id="T9", caller=Caller(name="刘德华", phone=MOBILE), received_at=NOW
    )
    state = result.state.model_copy(update={"citizens": (citizen,)})
    erased = erase_state(state, MOBILE)
    assert erased is not None
    assert erased.appeal.caller == Caller() and erased.citizens[0].caller == Caller()
    assert (erased.ticket_id, erased.status, erased.version) == (state.ticket_id, state.status, state.version)

    received = result.events[0].model_dump(mode="json")
    payload = erase_event_payload(received, MOBILE)
    assert payload is not None and payload["appeal"]["caller"] == {"name": None, "phone": None}
    assert MOBILE not in str(payload) and "1234" not in payload["appeal"]["text"]
    merged: dict[str, Any] = {"type": "appeal_merged", "citizen": citizen.model_dump(mode="json")}
    assert erase_event_payload(merged, MOBILE) == {
        **merged,
        "citizen": {**merged["citizen"], "caller": {"name": None, "phone": None}},
    }
    assert erase_event_payload(result.events[1].model_dump(mode="json"), MOBILE) is None
    assert erase_state(state, "13900009999") is None
