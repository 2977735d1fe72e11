"""Dead letters on `dead.letters`: a message an agent could not process, kept with its bytes.

Nothing an agent reads is dropped: what it cannot process (undecodable, against the
contract, refused by the store, or tripping a bug) is written here with where it came from
and why, then the agent goes on. `shaobao dead list` shows them; `shaobao dead replay` puts
one back on its source topic once the cause is fixed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.base import AwareDatetime, WireModel
from schemas.rejections import SourcePosition

DeadLetterReason = Literal[
    "undecodable",  # not JSON, not UTF-8, or not any payload of the topic's contract
    "contract_violation",  # JSON of the right shape but a value the contract refuses
    "unfoldable",  # an event that cannot follow its ticket's log (gap, reorder, wrong first event)
    "unstorable",  # PostgreSQL refused to hold it
    "too_large",  # what processing it would produce is larger than the broker takes
    "processing_error",  # a bug: any other exception while processing it
]
BytesEncoding = Literal["utf-8", "base64"]


class DeadLetter(WireModel):
    """One message an agent gave up on, with the first 256 KiB of its value (see `value_length`)."""

    schema_version: Literal[1] = 1
    dead_letter_id: str = Field(max_length=600, description="<source topic>:<partition>:<offset>:<agent>")
    agent: str = Field(max_length=100)
    reason: DeadLetterReason
    error_class: str = Field(max_length=200)
    error: str = Field(max_length=4000)
    source: SourcePosition
    key: str | None = Field(description="the record's key, capped at 4 KiB")
    key_encoding: BytesEncoding = "utf-8"
    value: str | None = Field(description="the record's value, its first 256 KiB")
    value_encoding: BytesEncoding = "utf-8"
    value_length: int = Field(ge=0, description="the whole value's length in bytes")
    value_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    truncated: bool = Field(description="true when `value` holds only the first 256 KiB")
    dead_at: AwareDatetime
