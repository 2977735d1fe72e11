"""The operator's desk (坐席): the caller's number as typed, and the operator's decision that
triage's yields to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain import public_names

if TYPE_CHECKING:
    from domain.desk.callers import is_repeat_caller, phone_digits
    from domain.desk.decision import honour, unknown_codes

__all__ = ["honour", "is_repeat_caller", "phone_digits", "unknown_codes"]

__getattr__ = public_names(
    __name__,
    {
        "honour": "decision",
        "is_repeat_caller": "callers",
        "phone_digits": "callers",
        "unknown_codes": "decision",
    },
)
