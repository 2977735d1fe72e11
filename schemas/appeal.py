"""An appeal (诉求) as it arrives on `appeals.intake`."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from schemas.base import AwareDatetime, WireModel, refused_character
from schemas.desk import DeskDecision

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
# Appeal times outside this window are typos or broken clocks; they would also overflow the
# local-time arithmetic (ticket ids, limits) near datetime's year 1 and 9999.
EARLIEST_RECEIVED_AT = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_RECEIVED_AT = datetime(2100, 1, 1, tzinfo=UTC)
# With a `now` in the validation context (the intake agent, the importers), an appeal may be
# ahead of it by clock skew, or by a local time written as UTC (+8 h), but not by more.
MAX_AHEAD = timedelta(days=1)


# Unicode's control characters (category Cc) are exactly these 65 code points.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _printable_id(value: str) -> str:
    if _CONTROL.search(value) is not None:
        raise ValueError("an identifier may not contain control characters")
    return value


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
    source_id: Annotated[str, AfterValidator(_printable_id)] = Field(min_length=1, max_length=200)
    received_at: AwareDatetime
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    address: str = Field(default="", max_length=500)
    caller: Caller = Field(default_factory=Caller)
    location: Location | None = None
    # The hotline declares the caller's identity confidential (a report the operator recognised,
    # or a caller who asked not to be named): withheld from units and the public whatever
    # triage reads in the text.
    confidential: bool = False
    # Taken at the desk (坐席): the operator's answer, dispatch or transfer, which triage's
    # decision yields to. Only the desk's producer writes it; no public channel carries it.
    desk: DeskDecision | None = None

    @field_validator("text")
    @classmethod
    def _text_has_content(cls, value: str) -> str:
        # Zero-width and other format characters (Cf) show nothing: a text of only those is blank.
        # One the store cannot hold is refused as such (`WireModel`), not as blank.
        if refused_character(value) is None and all(
            ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in value
        ):
            raise ValueError("text is blank")
        return value

    @field_validator("received_at")
    @classmethod
    def _received_at_is_plausible(cls, value: datetime, info: ValidationInfo) -> datetime:
        if not EARLIEST_RECEIVED_AT <= value < LATEST_RECEIVED_AT:
            raise ValueError("received_at must lie between 2000-01-01 and 2100-01-01")
        now = info.context.get("now") if isinstance(info.context, dict) else None
        if isinstance(now, datetime) and value - now > MAX_AHEAD:
            hours = (value - now).total_seconds() / 3600
            raise ValueError(f"received_at is {hours:.0f} h in the future (at most 24 h is accepted)")
        return value

    @property
    def intake_key(self) -> str:
        """The Kafka key on `appeals.intake` and the idempotency key: `channel:source_id`."""
        return f"{self.channel}:{self.source_id}"
