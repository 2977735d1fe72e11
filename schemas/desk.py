"""The operator's decision at the desk (坐席), carried on the appeal so the pipeline honours it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from schemas.base import WireModel
from schemas.kb import MAX_ANSWER_CHARS, EntryId
from schemas.triage import Urgency

DeskAction = Literal["answer", "dispatch", "transfer"]
TransferTarget = Literal["110", "119", "120", "12369"]
TRANSFER_TARGETS: tuple[TransferTarget, ...] = ("110", "119", "120", "12369")


class DeskAnswer(WireModel):
    """What the operator told the caller on the line, and the knowledge-base entry it came from."""

    text: str = Field(min_length=1, max_length=MAX_ANSWER_CHARS)
    entry_id: EntryId | None = None
    source: str | None = Field(default=None, max_length=400)  # the policy cited, as shown


class DeskDecision(WireModel):
    """Answer on the line, dispatch (accepting or correcting triage), or transfer.

    A dispatch names only what the operator corrected; what it leaves out is triage's.
    """

    operator: str = Field(min_length=1, max_length=100)
    action: DeskAction
    answer: DeskAnswer | None = None
    lead: str | None = Field(default=None, max_length=40)
    co: tuple[str, ...] = Field(default=(), max_length=10)
    category: str | None = Field(default=None, max_length=60)
    town: str | None = Field(default=None, max_length=40)
    urgency: Urgency | None = None
    transfer_to: TransferTarget | None = None

    @model_validator(mode="after")
    def _consistent(self) -> DeskDecision:
        if (self.action == "answer") != (self.answer is not None):
            raise ValueError("an answer on the line, and only that, carries an answer")
        if (self.action == "transfer") != (self.transfer_to is not None):
            raise ValueError("a transfer, and only that, names where to (110/119/120/12369)")
        if self.action != "dispatch" and (self.lead or self.co or self.category or self.town or self.urgency):
            raise ValueError("only a dispatch names units, a category, a town or an urgency")
        return self


__all__ = ["TRANSFER_TARGETS", "DeskAction", "DeskAnswer", "DeskDecision", "TransferTarget"]
