"""Masking what leaves the hotline: units, alerts and feeds see no full caller identity."""

from __future__ import annotations

import re
import unicodedata

from schemas.appeal import Caller


def mask_phone(phone: str) -> str:
    """`13807311234` → `138****1234`; numbers shorter than a mobile keep only their last two digits."""
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", phone) if ch.isdigit())
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


_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def scrub_phone_numbers(text: str) -> str:
    """Mask any mobile number written inside free text (citizens often type theirs).

    Full-width digits count as digits; everything else in the text is kept exactly as written.
    """
    # Same length as the text (one digit for one digit), so positions carry over.
    digits_only = text.translate(_FULLWIDTH_DIGITS)
    parts, last = [], 0
    for match in _MOBILE.finditer(digits_only):
        start, end = match.span()
        parts += [text[last:start], digits_only[start : start + 3], "****", digits_only[end - 4 : end]]
        last = end
    return "".join([*parts, text[last:]])


__all__ = ["REPORTER", "mask_name", "mask_phone", "masked_caller", "scrub_phone_numbers", "withhold_reporter"]
