"""Rejected intake records on `appeals.rejected`: nothing is dropped silently.

A rejection of any record fits the producer and the store: it keeps the first 256 KiB of the
original (as UTF-8 text only when those bytes are UTF-8 holding no character the contract
refuses, else base64), with the whole original's length and SHA-256; the key likewise, up to
4 KiB; and a message of bounded length. The fields added for this have defaults, so records
written before them still read (their length and digest are unknown: None).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.base import AwareDatetime, WireModel

RejectionReason = Literal["invalid_json", "invalid_utf8", "schema_violation", "too_large", "bad_key"]
BytesEncoding = Literal["utf-8", "base64"]
ORIGINAL_LIMIT_BYTES = 256 * 1024
KEY_LIMIT_BYTES = 4 * 1024
MESSAGE_LIMIT_CHARS = 2000


class SourcePosition(WireModel):
    topic: str
    partition: int
    offset: int


class AppealRejected(WireModel):
    """The original bytes (or their first 256 KiB), why, and where they came from. Bytes are
    kept as UTF-8 text, or as base64 when they are not UTF-8 or hold a character the contract
    refuses (`key_encoding`, `original_encoding`)."""

    schema_version: Literal[1] = 1
    rejection_id: str
    reason: RejectionReason
    message: str = Field(description=f"Why, for people; at most {MESSAGE_LIMIT_CHARS} characters.")
    key: str | None = Field(description="The record's key (its first 4 KiB), as `key_encoding` says.")
    key_encoding: BytesEncoding = "utf-8"
    key_truncated: bool = Field(default=False, description="The key was longer than 4 KiB.")
    original: str = Field(description="The record's value (its first 256 KiB), as `original_encoding` says.")
    original_encoding: BytesEncoding
    original_length: int | None = Field(
        default=None, ge=0, description="The whole value's length in bytes; null in older rejections."
    )
    original_sha256: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="The whole value's SHA-256 (hex); null in older rejections.",
    )
    original_truncated: bool = Field(
        default=False,
        description="`original` holds only the first 256 KiB: a replay needs a corrected value.",
    )
    source: SourcePosition
    rejected_at: AwareDatetime
