"""Intake (受理): ticket ids and the decision on each appeal taken in, and appeals read from
other channels (the mayor's mailbox, legacy CSV exports).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain import public_names

if TYPE_CHECKING:
    from domain.intake.decision import Admit, Arrival, Reject, Reroute, take_in
    from domain.intake.legacy_csv import Header, RowError, appeal_from_row, read_header, row_key
    from domain.intake.mailbox import MailError, MailFields, appeal_from_mail

__all__ = [
    "Admit",
    "Arrival",
    "Header",
    "MailError",
    "MailFields",
    "Reject",
    "Reroute",
    "RowError",
    "appeal_from_mail",
    "appeal_from_row",
    "read_header",
    "row_key",
    "take_in",
]

__getattr__ = public_names(
    __name__,
    {
        "Admit": "decision",
        "Arrival": "decision",
        "Header": "legacy_csv",
        "MailError": "mailbox",
        "MailFields": "mailbox",
        "Reject": "decision",
        "Reroute": "decision",
        "RowError": "legacy_csv",
        "appeal_from_mail": "mailbox",
        "appeal_from_row": "legacy_csv",
        "read_header": "legacy_csv",
        "row_key": "legacy_csv",
        "take_in": "decision",
    },
)
