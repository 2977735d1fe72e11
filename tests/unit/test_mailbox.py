"""The mayor's mailbox: one e-mail's fields → a `mailbox` appeal, or why it cannot be one;
and the importer's reading of real `.eml` bytes (charsets, transfer encodings, HTML)."""

from __future__ import annotations

import base64
import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain.intake.mailbox import (
    MailAppeal,
    MailError,
    MailFields,
    appeal_from_mail,
    find_phone,
    html_to_text,
)
from shaobao.importers.eml import decode_header_value, decode_text, parse_mail

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
MTIME = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
ZONE = "Asia/Shanghai"
SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples" / "mailbox"


def mail(**changes: object) -> MailFields:
    base = MailFields(
        message_id="<abc123@mail.163.com>",
        subject="南门社区路灯坏了",
        plain_body="小区东门外的路灯坏了两个多星期。\r\n联系电话：139 0731 2468\r\n",
        html_body=None,
        from_name="周建国",
        date=datetime(2026, 11, 24, 8, 15, tzinfo=UTC),
        file_digest="ab" * 32,
        file_mtime=MTIME,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def accepted(fields: MailFields) -> MailAppeal:
    outcome = appeal_from_mail(fields, ZONE, NOW)
    assert isinstance(outcome, MailAppeal), outcome
    return outcome


def test_a_plain_letter_becomes_a_mailbox_appeal_with_its_message_id_and_writer() -> None:
    found = accepted(mail())
    appeal = found.appeal
    assert (appeal.channel, appeal.source_id) == ("mailbox", "abc123@mail.163.com")
    assert appeal.text == "南门社区路灯坏了\n小区东门外的路灯坏了两个多星期。\n联系电话：139 0731 2468"
    assert appeal.caller.name == "周建国" and appeal.caller.phone == "13907312468"
    assert appeal.received_at == datetime(2026, 11, 24, 8, 15, tzinfo=UTC)
    assert found.notes == ()


def test_without_a_message_id_the_source_id_is_the_files_digest_and_a_note_says_so() -> None:
    found = accepted(mail(message_id=None))
    assert found.appeal.source_id == "sha256:" + "ab" * 20
    assert found.notes == ("no usable Message-ID: the source id is the file's SHA-256",)


@pytest.mark.parametrize("message_id", ["<>", "   ", "<" + "x" * 201 + ">", "<a\nb@c>"])
def test_an_unusable_message_id_falls_back_to_the_digest(message_id: str) -> None:
    assert accepted(mail(message_id=message_id)).appeal.source_id.startswith("sha256:")


def test_an_html_only_letter_is_read_as_text_without_scripts_or_styles() -> None:
    html = (
        "<html><head><style>p{}</style></head><body><p>凤凰城小区下水道堵塞&nbsp;一周了</p>"
        "<script>alert(1)</script><div>请疏通<br>署名：李女士</div></body></html>"
    )
    found = accepted(mail(plain_body="  \r\n", html_body=html, from_name=None))
    assert found.appeal.text == "南门社区路灯坏了\n凤凰城小区下水道堵塞 一周了\n请疏通\n署名：李女士"
    assert found.appeal.caller.name == "李女士"
    assert found.notes == ("no plain-text part: the text comes from the HTML part",)


def test_a_letter_with_neither_subject_nor_body_is_refused_with_its_would_be_source_id() -> None:
    outcome = appeal_from_mail(mail(subject=" ", plain_body=None), ZONE, NOW)
    assert outcome == MailError(
        "empty_mail", "the mail has neither a subject nor a body", "abc123@mail.163.com"
    )


def test_a_nul_in_the_body_is_refused_as_an_invalid_field() -> None:
    outcome = appeal_from_mail(mail(plain_body="路灯\x00坏了"), ZONE, NOW)
    assert isinstance(outcome, MailError)
    assert (outcome.reason, outcome.message) == (
        "invalid_field",
        "text: 含有无法保存的控制字符 U+0000（第 12 个字符）",
    )


@pytest.mark.parametrize(
    ("date", "received_at", "note"),
    [
        (datetime(2026, 11, 24, 16, 15), datetime(2026, 11, 24, 8, 15, tzinfo=UTC), "has no zone: read as"),  # noqa: DTZ001
        (None, MTIME, "no usable Date header: received at the file's time, 2026-11-30 10:00"),
        (datetime(2030, 1, 1, tzinfo=UTC), MTIME, "is not believable: received at the file's time"),
        (datetime(1998, 1, 1, tzinfo=UTC), MTIME, "is not believable"),
    ],
)
def test_the_date_header_or_else_the_files_time_is_when_it_was_received(
    date: datetime | None, received_at: datetime, note: str
) -> None:
    found = accepted(mail(date=date))
    assert found.appeal.received_at == received_at
    assert len(found.notes) == 1 and note in found.notes[0]


def test_a_very_long_letter_is_cut_to_the_contracts_limit_and_says_so() -> None:
    found = accepted(mail(plain_body="路" * 25_000))
    assert len(found.appeal.text) == 20_000
    assert found.notes[0].startswith("text of 25009 characters cut to 20000")


def test_attachments_are_named_in_a_note_not_imported() -> None:
    found = accepted(mail(attachments=("photo.jpg", "scan.pdf")))
    assert found.notes == ("attachments not imported: photo.jpg, scan.pdf",)


def test_an_address_in_the_from_name_is_not_a_caller_name() -> None:
    assert accepted(mail(from_name="zhou@163.com")).appeal.caller.name is None


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("电话 139-0731-2468", "13907312468"),
        ("手机１３９０７３１２４６８", "13907312468"),
        ("联系方式：0731-87654321", "0731-87654321"),
        ("tel: 87654321", "87654321"),
        ("编号 2139073124689 不是电话", None),
        ("没有号码", None),
    ],
)
def test_find_phone_reads_the_number_a_citizen_wrote(text: str, phone: str | None) -> None:
    assert find_phone(text) == phone


def test_html_to_text_keeps_one_line_per_block_and_decodes_entities() -> None:
    assert html_to_text("<p>a&amp;b</p><ul><li>一</li><li>二</li></ul>x<br/>y") == "a&b\n一\n二\nx\ny"


def test_gb2312_labelled_text_with_gbk_characters_is_decoded_as_gb18030() -> None:
    assert decode_text("王堃镕".encode("gbk"), "gb2312") == "王堃镕"
    assert decode_text("路灯".encode("gbk"), None) == "路灯"  # no charset, not UTF-8: GB18030
    assert decode_text("路灯".encode(), "x-unknown-charset") == "路灯"


def test_encoded_words_and_raw_8bit_headers_both_become_text() -> None:
    encoded = "=?gbk?B?" + base64.b64encode("王堃".encode("gbk")).decode() + "?= <w@126.com>"
    assert decode_header_value(encoded) == "王堃 <w@126.com>"
    raw = "团结菜市场".encode("gbk").decode("utf-8", "surrogateescape")
    assert decode_header_value(raw) == "团结菜市场"


@pytest.mark.parametrize(
    ("name", "source_id", "starts", "caller"),
    [
        (
            "01-utf8-quoted-printable.eml",
            "20261124081502.4F2A1@mail.163.com",
            "南门社区东门路灯坏了两个多星期\n市长您好",
            ("周建国", "13907312468"),
        ),
        (
            "02-gbk-base64.eml",
            "6a1f0c2e.1b2c.18f3d2a9b7c.Coremail.wangkun@126.com",
            "黄材镇龙泉村村道塌陷无人处理（王堃）\n",
            ("王堃", "0731-87654321"),
        ),
        (
            "03-gb2312-html-only.eml",
            "web-form-20261126-000318@mayor.example.gov.cn",
            "凤凰城小区下水道堵塞\n市长信箱：\n",
            ("李女士", None),
        ),
        (
            "04-multipart-with-photo.eml",
            "CAK3x9Q1m2x-hT7=r8v@mail.gmail.com",
            "温泉大道占道经营\n灰汤镇温泉大道东段",
            ("欧阳明", "13875123456"),
        ),
        (
            "05-no-message-id-8bit-gbk.eml",
            "sha256:a3cebaa2993823e024f0553385762564a54dc6e7",
            "团结菜市场占道\n历经铺街道",
            (None, None),
        ),
    ],
)
def test_each_sample_letter_is_read_from_its_bytes(
    name: str, source_id: str, starts: str, caller: tuple[str | None, str | None]
) -> None:
    appeal = accepted(parse_mail((SAMPLES / name).read_bytes(), MTIME)).appeal
    assert appeal.source_id == source_id
    assert appeal.text.startswith(starts) and "\r" not in appeal.text
    assert (appeal.caller.name, appeal.caller.phone) == caller


def test_the_sample_multipart_letter_prefers_plain_text_and_lists_its_photo() -> None:
    found = accepted(parse_mail((SAMPLES / "04-multipart-with-photo.eml").read_bytes(), MTIME))
    assert "<b>" not in found.appeal.text
    assert found.notes == ("attachments not imported: photo.jpg",)
