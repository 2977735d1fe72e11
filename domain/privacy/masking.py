"""Masking what leaves the hotline: units, alerts and feeds see no full caller identity."""

from __future__ import annotations

import re
import unicodedata

from domain.ticket.fold import TicketState
from schemas.appeal import Caller


def mask_phone(phone: str) -> str:
    """`13807311234` → `138****1234`; numbers shorter than a mobile keep only their last two digits."""
    return _masked_digits(_digits(unicodedata.normalize("NFKC", phone)))


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _masked_digits(digits: str) -> str:
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) >= 3:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "*" * len(digits)


def mask_name(name: str) -> str:
    """Keep the family name and an honorific: `刘先生` stays, `刘德华` → `刘**`."""
    name = name.strip()
    if not name:
        return name
    if name.endswith(("先生", "女士", "小姐", "师傅", "老师", "阿姨", "大爷")):
        return name[0] + name[-2:] if len(name) > 3 else name
    return name[0] + "*" * (len(name) - 1)


def masked_caller(caller: Caller, protected: bool) -> Caller | None:
    """The caller as units may see them; None for a protected reporter (举报, or what may be one)."""
    if protected:
        return None
    return Caller(
        name=mask_name(caller.name) if caller.name else None,
        phone=mask_phone(caller.phone) if caller.phone else None,
    )


REPORTER = "（举报人）"


def withhold_reporter(text: str, caller: Caller, protected: bool) -> str:
    """A protected reporter's text as the unit reported on may read it: the reporter's name, as
    they gave it and as it would be masked, replaced wherever they wrote it themselves."""
    name = (caller.name or "").strip()
    if not protected or len(name) < 2:
        return text
    for form in sorted(
        {name, mask_name(name), name.removesuffix("先生").removesuffix("女士")}, key=len, reverse=True
    ):
        if len(form) >= 2:
            text = text.replace(form, REPORTER)
    return text


# One character for one character, so a position in the copy is the same position in the text:
# full-width digits and signs, and the digits a transcript writes as words (幺三八…).
_AS_ASCII = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        **dict(zip("零〇一幺二三四五六七八九", "001123456789", strict=True)),
        "＋": "+",
        "－": "-",
        "—": "-",
        "（": "(",
        "）": ")",
        "．": ".",
        "　": " ",
        "＠": "@",
    }
)
_SEP = r"[ .\-]{0,3}"  # what people put between the digits of a number: spaces, dots, dashes
_EDGE = r"(?<![0-9A-Za-z])"  # not inside a longer number, code or word
_END = r"(?![0-9A-Za-z])"
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_ID_CARD = re.compile(
    _EDGE
    + r"[1-9]\d{5} ?(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]) ?\d{3}[\dXx]"
    + _END
    + r"|"
    + _EDGE
    + r"[1-9]\d{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}"
    + _END  # 15 digits, before 1999
)
_BANK_CARD = re.compile(_EDGE + r"\d{4}(?:[ \-]?\d{4}){3}(?:[ \-]?\d{1,3})?" + _END)
_MOBILE = re.compile(
    _EDGE
    + r"(?P<country>(?:\+|00)?86"
    + _SEP
    + r"|\(\+?86\)"
    + _SEP
    + r")?"
    + r"(?P<number>1"
    + _SEP
    + r"[3-9](?:"
    + _SEP
    + r"\d){9})(?!\d)"
)
_LANDLINE = re.compile(
    _EDGE + r"(?P<area>\(?0\d{2,3}\)?)" + _SEP + r"(?P<number>[2-9]\d{2,3}" + _SEP + r"\d{4})(?!\d)"
)


def _masked_mobile(match: re.Match[str]) -> str:
    # Not `mask_phone`: that NFKC-normalises, and a number written in text keeps its own digits (𝟖).
    country = (match["country"] or "").strip(" .-")
    return f"{country + ' ' if country else ''}{_masked_digits(_digits(match['number']))}"


def _masked_landline(match: re.Match[str]) -> str:
    return f"{match['area']}-****{_digits(match['number'])[-4:]}"


def _masked_id(match: re.Match[str]) -> str:
    value = match.group().replace(" ", "")
    return value[:3] + "*" * (len(value) - 5) + value[-2:]


def _masked_card(match: re.Match[str]) -> str:
    return "****" + _digits(match.group())[-4:]


def _masked_email(match: re.Match[str]) -> str:
    local, domain = match.group().split("@", 1)
    return f"{local[:1]}***@{domain}"


# Most specific first: a span one kind has taken is not read again by the next.
_IDENTIFIERS = (
    (_EMAIL, _masked_email),
    (_ID_CARD, _masked_id),
    (_BANK_CARD, _masked_card),
    (_MOBILE, _masked_mobile),
    (_LANDLINE, _masked_landline),
)


def scrub_identifiers(text: str) -> str:
    """Mask the personal numbers written inside free text: mobile numbers in any common form
    (138-0731-1234, +86 138 0731 1234, 0086…, full-width digits, 幺三八… in a transcript),
    landlines with their area code, ID-card numbers (18 and 15 digits), bank-card numbers and
    e-mail addresses. Everything else in the text is kept exactly as written."""
    copy = text.translate(_AS_ASCII)
    taken: list[tuple[int, int, str]] = []
    for pattern, mask in _IDENTIFIERS:
        for match in pattern.finditer(copy):
            start, end = match.span()
            if not any(start < t_end and t_start < end for t_start, t_end, _ in taken):
                taken.append((start, end, mask(match)))
    parts, last = [], 0
    for start, end, masked in sorted(taken):
        parts += [text[last:start], masked]
        last = end
    return "".join([*parts, text[last:]])


def mobile_numbers(text: str) -> set[str]:
    """Every mobile number written in `text`, in any form `scrub_identifiers` reads, as its 11 digits."""
    return {_digits(match["number"]) for match in _MOBILE.finditer(text.translate(_AS_ASCII))}


def replace_mobile(text: str, mobile: str, replacement: str) -> str:
    """`text` with each writing of one mobile number (its 11 digits) replaced, prefix and all."""
    spans = [m.span() for m in _MOBILE.finditer(text.translate(_AS_ASCII)) if _digits(m["number"]) == mobile]
    for start, end in reversed(spans):
        text = text[:start] + replacement + text[end:]
    return text


def text_for_units(text: str, caller: Caller, protected: bool) -> str:
    """An appeal's text (or address) as it leaves the hotline for units, the wall and the public:
    a protected reporter's name taken out, anyone else's name masked, the caller's own phone as
    they wrote it masked, and every personal number scrubbed."""
    if protected:
        text = withhold_reporter(text, caller, protected)
    elif caller.name and len(caller.name.strip()) >= 2 and mask_name(caller.name) != caller.name.strip():
        text = text.replace(caller.name.strip(), mask_name(caller.name))
    if caller.phone and len(caller.phone.strip()) >= 5:
        text = text.replace(caller.phone.strip(), mask_phone(caller.phone))
    return scrub_identifiers(text)


def shown_text(state: TicketState) -> str:
    """The ticket's appeal text as units, the control room and visitors may read it."""
    return text_for_units(state.appeal.text, state.appeal.caller, state.triage.reporter_protected)


def shown_address(state: TicketState) -> str:
    """The ticket's appeal address as units, the control room and visitors may read it."""
    return text_for_units(state.appeal.address, state.appeal.caller, state.triage.reporter_protected)


__all__ = [
    "REPORTER",
    "mask_name",
    "mask_phone",
    "masked_caller",
    "mobile_numbers",
    "replace_mobile",
    "scrub_identifiers",
    "shown_address",
    "shown_text",
    "text_for_units",
    "withhold_reporter",
]
