"""Intake decisions and what leaves the hotline about the caller."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from domain.intake.ids import ticket_id_for
from domain.privacy.masking import mask_name, mask_phone, masked_caller, scrub_identifiers
from schemas.appeal import Appeal, Caller
from schemas.rejections import SourcePosition
from streams.codecs import IntakeRejection, decode_appeal, rejection

NOW = datetime(2026, 3, 2, 1, 15, tzinfo=UTC)


def test_a_ticket_id_is_the_local_day_the_partition_and_the_offset() -> None:
    appeal = Appeal(
        channel="web", source_id="x", received_at=datetime(2026, 3, 1, 17, 0, tzinfo=UTC), text="t"
    )
    # 17:00 UTC is already 2 March in Asia/Shanghai.
    assert ticket_id_for(appeal, 3, 123, "Asia/Shanghai") == "20260302-03-000123"


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13807311234", "138****1234"),
        ("１３８０７３１１２３４", "138****1234"),
        ("0731-8888", "******88"),
        ("12", "**"),
    ],
)
def test_phone_numbers_are_masked_keeping_prefix_and_last_four(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("name", "masked"), [("刘先生", "刘先生"), ("刘德华", "刘**"), ("欧阳女士", "欧女士")]
)
def test_names_keep_only_the_family_name_and_honorific(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_a_reporter_stays_anonymous_to_units() -> None:
    caller = Caller(name="王先生", phone="13900001111")
    assert masked_caller(caller, protected=True) is None
    assert masked_caller(caller, protected=False) == Caller(name="王先生", phone="139****1111")


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ("请回电13807311234谢谢", "请回电138****1234谢谢"),
        ("电话：１３８０７３１１２３４，谢谢！", "电话：138****1234，谢谢！"),
        ("工单号20260302000123不是手机", "工单号20260302000123不是手机"),
        ("两个号码13807311234和13907319999", "两个号码138****1234和139****9999"),
    ],
)
def test_phone_numbers_written_in_the_text_are_masked_and_nothing_else_changes(
    text: str, scrubbed: str
) -> None:
    assert scrub_identifiers(text) == scrubbed


@pytest.mark.parametrize(
    ("raw", "key", "reason"),
    [
        (b"{not json", None, "invalid_json"),
        (b"\xff\xfe\x00", None, "invalid_utf8"),
        (
            b'{"channel": "fax", "source_id": "1", "received_at": "2026-03-02T09:00:00+08:00", "text": "x"}',
            None,
            "schema_violation",
        ),
        (
            b'{"channel": "web", "source_id": "1", "received_at": "2026-03-02T09:00:00", "text": "x"}',
            None,
            "schema_violation",
        ),
        (
            b'{"channel": "web", "source_id": "1", "received_at": "2026-03-02T09:00:00+08:00", '
            b'"text": "   "}',
            None,
            "schema_violation",
        ),
        (
            b'{"channel": "web", "source_id": "1", "received_at": "2026-03-02T09:00:00+08:00", "text": "x"}',
            b"web:2",
            "bad_key",
        ),
        (None, None, "invalid_json"),
    ],
)
def test_bad_intake_records_are_rejected_with_a_reason_code(
    raw: bytes | None, key: bytes | None, reason: str
) -> None:
    with pytest.raises(IntakeRejection) as caught:
        decode_appeal(raw, key)
    assert caught.value.reason == reason


def test_a_rejection_keeps_non_utf8_bytes_as_base64() -> None:
    raw = b"\xff\xfe\x00abc"
    error = IntakeRejection("invalid_utf8", "not UTF-8 at byte 0")
    kept = rejection(raw, b"k", error, SourcePosition(topic="appeals.intake", partition=1, offset=5), NOW)
    assert kept.original_encoding == "base64"
    assert base64.b64decode(kept.original) == raw
    assert kept.rejection_id == "appeals.intake:1:5"
