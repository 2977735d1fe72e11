"""Reading one `.eml` file into `MailFields`: MIME structure, transfer encodings, charsets.

Chinese mail is often mislabelled: `gb2312` declared for text that uses GBK characters, no
charset at all, or raw 8-bit GBK in a header. Every text is therefore decoded through
`decode_text`, which widens the GB family to GB18030 and falls back from UTF-8 to GB18030.
"""

from __future__ import annotations

import email
import hashlib
import re
from datetime import datetime
from email import policy
from email.header import decode_header
from email.message import EmailMessage, Message
from email.utils import parseaddr, parsedate_to_datetime

from domain.intake import MailFields

# Supersets that decode everything their subsets do: mislabelled GB mail is the norm.
_WIDER = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "ascii": "utf-8"}
_WIDER |= {"us-ascii": "utf-8", "euc-cn": "gb18030", "hz-gb-2312": "gb18030"}


def decode_text(data: bytes, declared: str | None) -> str:
    """Bytes of a text part or header in the declared charset, else UTF-8, else GB18030."""
    charsets = [_WIDER.get(declared.lower(), declared.lower())] if declared else []
    for charset in [*charsets, "utf-8", "gb18030"]:
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", "replace")


def decode_header_value(raw: str) -> str:
    """A header as stored: RFC 2047 encoded words and raw 8-bit bytes both become text."""
    parts = []
    unfolded = re.sub(r"\r?\n[ \t]", " ", raw)
    for chunk, charset in decode_header(unfolded):
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8", "surrogateescape")  # raw 8-bit bytes kept by the parser
        parts.append(decode_text(chunk, charset))
    return "".join(parts).strip()


def _header(message: Message, name: str) -> str | None:
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            return decode_header_value(str(value))
    return None


def _date(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        return parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None  # unreadable: the domain falls back to the file's time and says so


def _bodies(message: EmailMessage) -> tuple[str | None, str | None, tuple[str, ...]]:
    """The first text/plain and text/html parts that are not attachments, and attachment names."""
    plain = html = None
    attachments: list[str] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        if part.is_attachment():
            attachments.append(part.get_filename() or part.get_content_type())
            continue
        kind = part.get_content_type()
        if kind not in ("text/plain", "text/html"):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        text = decode_text(data, part.get_content_charset())
        if kind == "text/plain" and plain is None:
            plain = text
        elif kind == "text/html" and html is None:
            html = text
    return plain, html, tuple(attachments)


def parse_mail(data: bytes, file_mtime: datetime) -> MailFields:
    """The bytes of one `.eml` file as the fields the domain turns into an appeal."""
    message = email.message_from_bytes(data, _class=EmailMessage, policy=policy.default)
    plain, html, attachments = _bodies(message)
    from_name, _ = parseaddr(_header(message, "From") or "")
    return MailFields(
        message_id=_header(message, "Message-ID"),
        subject=_header(message, "Subject") or "",
        plain_body=plain,
        html_body=html,
        from_name=from_name or None,
        date=_date(_header(message, "Date")),
        file_digest=hashlib.sha256(data).hexdigest(),
        file_mtime=file_mtime,
        attachments=attachments,
    )
