"""Privacy: masking what leaves the hotline, and erasing one person from the record."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain import public_names

if TYPE_CHECKING:
    from domain.privacy.erasure import (
        DEAD_LETTERS_KEPT,
        REJECTIONS_KEPT,
        erase_event_payload,
        erase_state,
        national_mobile,
    )
    from domain.privacy.masking import (
        mask_phone,
        masked_caller,
        mobile_numbers,
        scrub_identifiers,
        shown_address,
        shown_text,
        text_for_units,
    )

__all__ = [
    "DEAD_LETTERS_KEPT",
    "REJECTIONS_KEPT",
    "erase_event_payload",
    "erase_state",
    "mask_phone",
    "masked_caller",
    "mobile_numbers",
    "national_mobile",
    "scrub_identifiers",
    "shown_address",
    "shown_text",
    "text_for_units",
]

__getattr__ = public_names(
    __name__,
    {
        "DEAD_LETTERS_KEPT": "erasure",
        "REJECTIONS_KEPT": "erasure",
        "erase_event_payload": "erasure",
        "erase_state": "erasure",
        "mask_phone": "masking",
        "masked_caller": "masking",
        "mobile_numbers": "masking",
        "national_mobile": "erasure",
        "scrub_identifiers": "masking",
        "shown_address": "masking",
        "shown_text": "masking",
        "text_for_units": "masking",
    },
)
