"""Shared model configuration and field types for the wire contract."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict


def _require_timezone(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must carry a timezone (e.g. +08:00 or Z)")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_require_timezone)]


class WireModel(BaseModel):
    """A payload we own: immutable, and unknown fields are an error."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)
