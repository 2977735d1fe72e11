"""Rejected intake records on `appeals.rejected`: nothing is dropped silently."""

from __future__ import annotations

from typing import Literal

from schemas.base import AwareDatetime, WireModel

RejectionReason = Literal["invalid_json", "invalid_utf8", "schema_violation", "too_large", "bad_key"]


class SourcePosition(WireModel):
    topic: str
    partition: int
    offset: int


class AppealRejected(WireModel):
    """The original bytes (UTF-8 text, or base64 when not UTF-8), why, and where they came from."""

    schema_version: Literal[1] = 1
    rejection_id: str
    reason: RejectionReason
    message: str
    key: str | None
    original: str
    original_encoding: Literal["utf-8", "base64"]
    source: SourcePosition
    rejected_at: AwareDatetime
