"""Running time limits (时限) as they travel on events and work orders.

A clock is one running limit of a ticket: when it warns (预警, `warn_at`), falls due
(超期, `due_at`) and escalates (督办, `escalate_at`). `version` is the ticket version
that (re)started or extended it, so a timer's command for an older version of the same
clock is recognised as stale; `fired` are the marks already recorded for this version.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from schemas.actions import DURATION_PATTERN
from schemas.base import AwareDatetime, WireModel

_DURATION = re.compile(DURATION_PATTERN)


class ClockKind(StrEnum):
    """Which limit a clock runs: sign (签收), on-scene, complete (办结), callback (回访), report-in (报到)."""

    SIGN = "sign"
    ON_SCENE = "on_scene"
    COMPLETE = "complete"
    CALLBACK = "callback"
    REPORT_IN = "report_in"


class Mark(StrEnum):
    """What a clock raises as time passes: at risk (预警), overdue (超期), supervise (督办)."""

    AT_RISK = "at_risk"
    OVERDUE = "overdue"
    SUPERVISE = "supervise"


class Clock(WireModel):
    """One running time limit of a ticket, all instants in UTC.

    `unit` is the unit the clock runs against (the lead unit for sign, on-scene and
    complete, the whistled unit for report-in), None for the hotline's own callback.
    `limit` is the limit as written (`5wd`); `extensions` the extra time granted.
    """

    kind: ClockKind
    unit: str | None
    started_at: AwareDatetime
    due_at: AwareDatetime
    warn_at: AwareDatetime
    escalate_at: AwareDatetime
    limit: str
    extensions: tuple[str, ...] = ()
    version: int = Field(default=0, ge=0, description="The ticket version that set this clock.")
    fired: tuple[Mark, ...] = ()

    @field_validator("limit")
    @classmethod
    def _limit_is_a_duration(cls, value: str) -> str:
        if not _DURATION.match(value):
            raise ValueError(f"not a duration: {value!r} (expected e.g. 2wh, 5wd, 24h, 30min)")
        return value

    @model_validator(mode="after")
    def _marks_in_order(self) -> Clock:
        if not self.started_at <= self.warn_at <= self.due_at <= self.escalate_at:
            raise ValueError("a clock needs started_at <= warn_at <= due_at <= escalate_at")
        return self

    @property
    def key(self) -> str:
        """Names the clock within its ticket: `sign`, `complete`, …, `report_in.<unit>`."""
        return f"{self.kind.value}.{self.unit}" if self.kind is ClockKind.REPORT_IN else self.kind.value

    def mark_at(self, mark: Mark) -> datetime:
        """The instant a mark of this clock falls due."""
        return {Mark.AT_RISK: self.warn_at, Mark.OVERDUE: self.due_at, Mark.SUPERVISE: self.escalate_at}[mark]
