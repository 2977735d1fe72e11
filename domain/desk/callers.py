"""The operator's desk (坐席): a caller's number as typed, and whether they are calling again.

A caller's history is found by the digits of their number (`phone_digits`): however the
operator types it (138-0731-1234, +86 138…), the same digits are the same caller.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

# What an operator may type as a phone number: digits, '+', '-' and spaces, 5–20 characters.
PHONE = re.compile(r"[0-9+\- ]{5,20}")
# 重复来电: two tickets or more from one number within this window.
REPEAT_WINDOW = timedelta(days=30)
REPEAT_TICKETS = 2


def phone_digits(phone: str) -> str | None:
    """The digits of a number as typed, or None when it is not one (`PHONE`, with 5+ digits)."""
    if PHONE.fullmatch(phone) is None:
        return None
    digits = re.sub(r"\D", "", phone)
    return digits if len(digits) >= 5 else None


def is_repeat_caller(received: Iterable[datetime], now: datetime) -> bool:
    """Whether a number brought `REPEAT_TICKETS` tickets or more in the last `REPEAT_WINDOW`."""
    recent = [at for at in received if now - REPEAT_WINDOW <= at <= now]
    return len(recent) >= REPEAT_TICKETS


__all__ = ["PHONE", "REPEAT_TICKETS", "REPEAT_WINDOW", "is_repeat_caller", "phone_digits"]
