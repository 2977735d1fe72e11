"""The mayor's mailbox (市长信箱): one e-mail, already read into fields, → an appeal.

The importer decodes the file (charsets, quoted-printable, base64, MIME parts); here we
decide what the appeal is: its text (subject and body, HTML turned into text), its source
id (the Message-ID, else a digest of the file), when it was received (the Date header, else
the file's time), and who wrote (the From display name, a phone number written in the body).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from schemas.appeal import EARLIEST_RECEIVED_AT, MAX_AHEAD, MAX_TEXT_CHARS, Appeal

MAX_SOURCE_ID_CHARS = 200
MailReason = Literal["empty_mail", "invalid_field"]
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)[ \-]?(\d{4})[ \-]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?:电话|联系方式|座机|tel)[:：\s]*((?:0\d{2,3}[ \-]?)?\d{7,8})(?!\d)", re.I)
_SIGNED_NAME = re.compile(r"(?:姓名|署名|来信人)[:：\s]*([^\s:：,，;；]{1,20})")
_BLOCK_TAGS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote"}
_HIDDEN_TAGS = {"script", "style", "head", "title"}


@dataclass(frozen=True)
class MailFields:
    """What the importer read from one `.eml` file, headers decoded to text.

    `date` is the Date header (naive when it said `-0000`, None when missing or unreadable);
    `file_mtime` is aware; `file_digest` is the SHA-256 of the file's bytes in hex.
    """

    message_id: str | None
    subject: str
    plain_body: str | None
    html_body: str | None
    from_name: str | None
    date: datetime | None
    file_digest: str
    file_mtime: datetime
    attachments: tuple[str, ...] = ()


@dataclass(frozen=True)
class MailAppeal:
    """The appeal, and what the importer should tell the person running it."""

    appeal: Appeal
    notes: tuple[str, ...]


@dataclass(frozen=True)
class MailError:
    """A mail that cannot become an appeal, why (a code and a message), and the source id it
    would have had."""

    reason: MailReason
    message: str
    source_id: str


def appeal_from_mail(mail: MailFields, timezone: str, now: datetime) -> MailAppeal | MailError:
    """One e-mail as a `mailbox` appeal, with notes on every guess made, or why it cannot be."""
    notes: list[str] = []
    source_id = _source_id(mail, notes)
    body = _lines(mail.plain_body) if mail.plain_body and mail.plain_body.strip() else None
    if body is None and mail.html_body:
        body = html_to_text(mail.html_body)
        notes.append("no plain-text part: the text comes from the HTML part")
    text = "\n".join(part for part in (_lines(mail.subject).strip(), (body or "").strip()) if part)
    if not text:
        return MailError("empty_mail", "the mail has neither a subject nor a body", source_id)
    if len(text) > MAX_TEXT_CHARS:
        notes.append(f"text of {len(text)} characters cut to {MAX_TEXT_CHARS}; the file keeps the rest")
        text = text[:MAX_TEXT_CHARS]
    if mail.attachments:
        notes.append(f"attachments not imported: {', '.join(mail.attachments)}")
    received_at = _received_at(mail, timezone, now, notes)
    fields = {
        "channel": "mailbox",
        "source_id": source_id,
        "received_at": received_at,
        "text": text,
        "caller": {"name": _caller_name(mail, body or ""), "phone": find_phone(text)},
    }
    try:
        return MailAppeal(Appeal.model_validate(fields, context={"now": now}), tuple(notes))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return MailError("invalid_field", problems, source_id)


def _lines(text: str) -> str:
    """Mail lines end in CRLF on the wire (and sometimes CR alone): one LF each in the appeal."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _source_id(mail: MailFields, notes: list[str]) -> str:
    message_id = (mail.message_id or "").strip().strip("<>").strip()
    usable = 0 < len(message_id) <= MAX_SOURCE_ID_CHARS and message_id.isprintable()
    if usable:
        return message_id
    notes.append("no usable Message-ID: the source id is the file's SHA-256")
    return f"sha256:{mail.file_digest[:40]}"


def _received_at(mail: MailFields, timezone: str, now: datetime, notes: list[str]) -> datetime:
    """The Date header in UTC; the file's time when it is missing or not believable."""
    zone = ZoneInfo(timezone)
    date = mail.date
    if date is not None and date.tzinfo is None:
        notes.append(f"the Date header has no zone: read as {timezone} time")
        date = date.replace(tzinfo=zone)
    if date is not None and EARLIEST_RECEIVED_AT <= date <= now + MAX_AHEAD:
        return date.astimezone(UTC)
    local = mail.file_mtime.astimezone(zone)
    why = "no usable Date header" if date is None else f"the Date header {date.isoformat()} is not believable"
    notes.append(f"{why}: received at the file's time, {local:%Y-%m-%d %H:%M} {timezone}")
    return mail.file_mtime.astimezone(UTC)


def _caller_name(mail: MailFields, body: str) -> str | None:
    name = (mail.from_name or "").strip().strip("\"'").strip()
    if name and "@" not in name:
        return name[:100]
    signed = _SIGNED_NAME.search(body)
    return signed.group(1) if signed else None


def find_phone(text: str) -> str | None:
    """The first phone number a citizen wrote: a mobile (separators allowed), else a landline
    after 电话/联系方式; digits as ASCII. None when there is none."""
    normal = unicodedata.normalize("NFKC", text)
    mobile = _MOBILE.search(normal)
    if mobile:
        return "".join(mobile.groups())
    landline = _LANDLINE.search(normal)
    return landline.group(1).replace(" ", "-") if landline else None


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: no tags, scripts or styles; one line per block."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    lines = (" ".join(line.replace("\xa0", " ").split()) for line in "".join(collector.parts).splitlines())
    return "\n".join(line for line in lines if line)
