"""An appeal (诉求) as it arrives on `appeals.intake`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from schemas.base import AwareDatetime, WireModel

Channel = Literal["phone", "web", "wechat", "app", "sms", "mailbox", "transfer_110", "hotline_12369"]
CHANNELS: tuple[Channel, ...] = (
    "phone",
    "web",
    "wechat",
    "app",
    "sms",
    "mailbox",
    "transfer_110",
    "hotline_12369",
)
MAX_TEXT_CHARS = 20_000


class Caller(WireModel):
    """Who called. Both fields optional: reports (举报) are often anonymous."""

    name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40)


class Location(WireModel):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Appeal(WireModel):
    """One citizen's appeal from one channel; `channel:source_id` identifies it."""

    schema_version: Literal[1] = 1
    channel: Channel
    source_id: str = Field(min_length=1, max_length=200)
    received_at: AwareDatetime
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    address: str = Field(default="", max_length=500)
    caller: Caller = Field(default_factory=Caller)
    location: Location | None = None

    @field_validator("text")
    @classmethod
    def _text_has_content(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is blank")
        if "\x00" in value:
            raise ValueError("text contains NUL characters")
        return value

    @property
    def intake_key(self) -> str:
        """The Kafka key on `appeals.intake` and the idempotency key: `channel:source_id`."""
        return f"{self.channel}:{self.source_id}"
