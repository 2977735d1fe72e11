"""A unit's actions on `units.<unit>.actions` (keyed by ticket_id), written by that unit's system.

The payload never says which unit acts: the topic it arrives on does (or, over HTTP, the
unit's token). `action_id` is the unit's idempotency key: sending the same action again
changes nothing. Whistle (吹哨) and report-in (报到) will join the union as new `type`s.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from schemas.base import AwareDatetime, WireModel

# A duration as the jurisdiction writes its limits: working days/hours or calendar hours/minutes.
DURATION_PATTERN = r"^\d+(\.\d+)?(wd|wh|h|min)$"
ReturnReasonCode = Literal[
    "not_our_duty",  # 不属本单位职责
    "wrong_town",  # 不属本属地
    "wrong_category",  # 分类错误
    "lacks_power",  # 属地无执法权（无力解决）
    "insufficient_information",  # 诉求信息不全
    "duplicate",  # 重复工单
    "other",
]
UNIT_TEXT_MAX = 4000


class _Action(WireModel):
    schema_version: Literal[1] = 1
    action_id: str = Field(min_length=1, max_length=200, description="The unit's idempotency key.")
    ticket_id: str = Field(min_length=1, max_length=100)
    acted_at: AwareDatetime


class SignAction(_Action):
    """签收: the unit accepts its work order (the lead its lead part, a co unit its part)."""

    type: Literal["sign"] = "sign"


class ReturnAction(_Action):
    """退单: the order is not this unit's, with a reason code, the reason, and whose it may be."""

    type: Literal["return"] = "return"
    reason_code: ReturnReasonCode
    reason: str = Field(min_length=1, max_length=UNIT_TEXT_MAX)
    suggested_unit: str | None = Field(default=None, max_length=50)


class RequestExtensionAction(_Action):
    """延期申请: the lead asks for more time (`extra`, e.g. `3wd`); the hotline grants or denies."""

    type: Literal["request_extension"] = "request_extension"
    extra: str = Field(pattern=DURATION_PATTERN)
    reason: str = Field(min_length=1, max_length=UNIT_TEXT_MAX)


class NoteProgressAction(_Action):
    """办理进展: what has been done so far."""

    type: Literal["note_progress"] = "note_progress"
    note: str = Field(min_length=1, max_length=UNIT_TEXT_MAX)


class ReportPartAction(_Action):
    """协办反馈: a co unit reports its part to the lead and the hotline."""

    type: Literal["report_part"] = "report_part"
    report: str = Field(min_length=1, max_length=UNIT_TEXT_MAX)


class CompleteAction(_Action):
    """办结: the lead reports the result, with the reply to the citizen."""

    type: Literal["complete"] = "complete"
    reply: str = Field(min_length=1, max_length=UNIT_TEXT_MAX)


class WhistleAction(_Action):
    """街乡吹哨: a town holding the ticket calls departments in (`units`), with why."""

    type: Literal["whistle"] = "whistle"
    units: tuple[str, ...] = Field(min_length=1, max_length=20)
    reason: str = Field(min_length=1, max_length=UNIT_TEXT_MAX)


class ReportInAction(_Action):
    """部门报到: a whistled unit reports in to the town (to `whistle_id`, or its oldest open one)."""

    type: Literal["report_in"] = "report_in"
    whistle_id: str | None = Field(default=None, max_length=200)
    note: str = Field(default="", max_length=UNIT_TEXT_MAX)


UnitAction = Annotated[
    SignAction
    | ReturnAction
    | RequestExtensionAction
    | NoteProgressAction
    | ReportPartAction
    | CompleteAction
    | WhistleAction
    | ReportInAction,
    Field(discriminator="type"),
]
UNIT_ACTION: TypeAdapter[UnitAction] = TypeAdapter(UnitAction)
UnitActionType = Literal[
    "sign", "return", "request_extension", "note_progress", "report_part", "complete", "whistle", "report_in"
]
UNIT_ACTION_TYPES: tuple[UnitActionType, ...] = (
    "sign",
    "return",
    "request_extension",
    "note_progress",
    "report_part",
    "complete",
    "whistle",
    "report_in",
)
