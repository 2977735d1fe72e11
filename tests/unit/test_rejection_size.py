"""A rejection of any record fits the producer (1 MB at most per request) and the store: the
first 256 KiB of the original, as text only when it is UTF-8 the contract takes, else base64,
with the whole length and SHA-256; the key up to 4 KiB; the message bounded. A record kept
only in part is not replayed as it is."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime

import pytest

from infra.kafka.rejections import key_bytes, original_bytes
from schemas.rejections import AppealRejected, SourcePosition
from shaobao.rejections_cli import Replay, _plan
from streams.codecs import MAX_INTAKE_BYTES, IntakeRejection, decode_appeal, encode, rejection

NOW = datetime(2026, 3, 2, 1, 15, tzinfo=UTC)
SOURCE = SourcePosition(topic="appeals.intake", partition=3, offset=123456)
KIB = 1024
PRODUCER_MAX_REQUEST_BYTES = 1_000_000  # Faust's and aiokafka's default, under 1 MiB
AS_IS = Replay(fix_key=False, corrected=None, wait_s=0)


def rejected(raw: bytes, key: bytes | None = b"phone:s-1") -> AppealRejected:
    """What the intake agent files for this record."""
    try:
        decode_appeal(raw, key, NOW)
    except IntakeRejection as error:
        return rejection(raw, key, error, SOURCE, NOW)
    raise AssertionError("the record was taken as an appeal")


def shell(found: AppealRejected) -> int:
    """The bytes of the rejection's JSON around the original and the key."""
    return len(encode(found.model_copy(update={"original": "", "key": None})))


def base64_length(size: int) -> int:
    return 4 * ((size + 2) // 3)


def test_170_000_bytes_of_u0001_become_a_base64_rejection_under_600_kib() -> None:
    raw = "\u0001".encode() * 170_000
    found = rejected(raw)
    value = encode(found)
    assert (found.reason, found.original_encoding) == ("invalid_json", "base64")
    assert (found.original_length, found.original_truncated) == (170_000, False)
    assert found.original_sha256 == hashlib.sha256(raw).hexdigest()
    assert base64.b64decode(found.original) == raw
    assert len(found.original) == base64_length(170_000) == 226_668
    assert len(value) == 226_668 + len(b'"phone:s-1"') - len(b"null") + shell(found)
    assert len(value) < 600 * KIB


@pytest.mark.parametrize(
    ("name", "raw", "reason", "encoding", "kept_bytes", "original_chars"),
    [
        # Each U+0001 would be six bytes of JSON as text: base64 is 4/3.
        ("256 KiB of U+0001", b"\x01" * 256 * KIB, "invalid_json", "base64", 256 * KIB, 349_528),
        # Text the contract takes is kept as text: JSON escaping at most doubles it (2 per '"').
        ("256 KiB of quotes", b'"' * 256 * KIB, "invalid_json", "utf-8", 256 * KIB, 256 * KIB),
        ("256 KiB of invalid UTF-8", b"\xff" * 256 * KIB, "invalid_utf8", "base64", 256 * KIB, 349_528),
        ("1 MiB of quotes", b'"' * 1024 * KIB, "too_large", "utf-8", 256 * KIB, 256 * KIB),
        ("1 MiB of U+0001", b"\x01" * 1024 * KIB, "too_large", "base64", 256 * KIB, 349_528),
    ],
)
def test_the_worst_records_give_rejections_well_under_the_producers_limit(
    name: str, raw: bytes, reason: str, encoding: str, kept_bytes: int, original_chars: int
) -> None:
    found = rejected(raw)
    value = encode(found)
    assert (found.reason, found.original_encoding) == (reason, encoding)
    assert len(original_bytes(found)) == kept_bytes
    assert raw.startswith(original_bytes(found))
    assert len(found.original) == original_chars
    assert (found.original_length, found.original_truncated) == (len(raw), len(raw) > MAX_INTAKE_BYTES)
    assert found.original_sha256 == hashlib.sha256(raw).hexdigest()
    escaped = 2 * original_chars if encoding == "utf-8" else original_chars  # '"' → '\"'
    assert len(value) == escaped + len(b'"phone:s-1"') - len(b"null") + shell(found)
    assert len(value) < 530 * KIB < PRODUCER_MAX_REQUEST_BYTES
    assert AppealRejected.model_validate_json(value) == found


def test_a_key_of_a_megabyte_and_a_record_at_the_cap_still_fit() -> None:
    key = b"\x00" * 1024 * KIB
    raw = b'"' * 256 * KIB
    found = rejected(raw, key)
    value = encode(found)
    assert (found.key_encoding, found.key_truncated) == ("base64", True)
    assert key_bytes(found) == b"\x00" * 4 * KIB
    assert len(found.key or "") == base64_length(4 * KIB) == 5_464
    assert len(value) == 2 * 256 * KIB + 5_464 + len(b'""') - len(b"null") + shell(found)
    assert len(value) < 530 * KIB


def test_a_bad_key_message_quotes_only_the_start_of_the_key() -> None:
    body = {
        "channel": "phone",
        "source_id": "s-1",
        "received_at": "2026-03-02T09:15:00+08:00",
        "text": "路灯坏了",
    }
    found = rejected(json.dumps(body).encode(), b"k" * 500_000)
    assert found.reason == "bad_key"
    assert found.message == f"key b'{'k' * 200}'… does not match channel:source_id 'phone:s-1'"
    assert (found.key_encoding, found.key_truncated, found.key) == ("utf-8", True, "k" * 4 * KIB)


def test_a_message_is_escaped_and_cut_at_2000_characters() -> None:
    found = rejection(b"{}", None, IntakeRejection("invalid_json", "\x00" + "x" * 5000), SOURCE, NOW)
    assert found.message == "\\u0000" + "x" * 1993 + "…"
    assert len(found.message) == 2000


def test_a_text_original_is_cut_on_a_character_boundary() -> None:
    raw = "路".encode() * 349_526  # 1,048,578 bytes: 256 KiB falls inside a character
    found = rejected(raw)
    assert (found.reason, found.original_encoding, found.original_truncated) == ("too_large", "utf-8", True)
    assert found.original == "路" * 87_381
    assert len(original_bytes(found)) == 262_143 == 256 * KIB - 1
    assert (found.original_length, found.original_sha256) == (1_048_578, hashlib.sha256(raw).hexdigest())


def test_a_key_holding_refused_characters_or_not_utf8_is_kept_in_base64() -> None:
    raw = b"{"
    for key in (b"phone:\x01", b"phone:\xff", b"phone:\xef\xbf\xbe"):  # U+0001, not UTF-8, U+FFFE
        found = rejected(raw, key)
        assert (found.key_encoding, key_bytes(found), found.key_truncated) == ("base64", key, False)
    plain = rejected(raw, "phone:路灯".encode())
    assert (plain.key_encoding, plain.key) == ("utf-8", "phone:路灯")
    assert rejected(raw, None).key is None


def test_a_rejection_written_before_lengths_were_kept_still_reads() -> None:
    old = {
        "schema_version": 1,
        "rejection_id": "appeals.intake:0:1",
        "reason": "invalid_json",
        "message": "invalid JSON",
        "key": "phone:s-1",
        "original": "{",
        "original_encoding": "utf-8",
        "source": {"topic": "appeals.intake", "partition": 0, "offset": 1},
        "rejected_at": "2026-03-02T01:15:00Z",
    }
    found = AppealRejected.model_validate_json(json.dumps(old))
    assert (found.original_length, found.original_sha256, found.original_truncated) == (None, None, False)
    assert (found.key_encoding, found.key_truncated) == ("utf-8", False)
    assert _plan(found.rejection_id, found, AS_IS) == (found.rejection_id, b"phone:s-1", b"{", "")


def test_a_truncated_original_is_not_replayed_as_it_is_but_a_corrected_one_is() -> None:
    found = rejected(b'"' * 1024 * KIB)
    digest = hashlib.sha256(b'"' * 1024 * KIB).hexdigest()
    with pytest.raises(ValueError, match="replay it with --corrected FILE") as refused:
        _plan(found.rejection_id, found, AS_IS)
    assert str(refused.value) == (
        f"only the first 262144 of its 1048576 bytes were kept (sha256 {digest}); "
        "replay it with --corrected FILE"
    )
    with pytest.raises(ValueError, match="replay it with --corrected FILE"):
        _plan(found.rejection_id, found, Replay(fix_key=True, corrected=None, wait_s=0))
    corrected = json.dumps({"channel": "phone", "source_id": "s-1", "text": "路灯坏了"}).encode()
    planned = _plan(found.rejection_id, found, Replay(fix_key=False, corrected=corrected, wait_s=0))
    assert planned == (found.rejection_id, b"phone:s-1", corrected, " (corrected JSON)")


def test_a_cut_key_is_not_replayed_as_it_is_but_fixed_from_the_payload() -> None:
    body = {"channel": "phone", "source_id": "s-1", "received_at": "2026-03-02T09:15:00+08:00", "text": "路"}
    raw = json.dumps(body).encode()
    found = rejected(raw, b"k" * 5 * KIB)
    with pytest.raises(ValueError, match="only the first 4 KiB of its key were kept"):
        _plan(found.rejection_id, found, AS_IS)
    fixed = _plan(found.rejection_id, found, Replay(fix_key=True, corrected=None, wait_s=0))
    assert fixed[:3] == (found.rejection_id, b"phone:s-1", raw)
