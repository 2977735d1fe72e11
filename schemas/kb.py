"""The knowledge base (知识库): policy answers the departments keep, searched at the desk."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from schemas.base import WireModel

# An entry id is chosen by the unit that writes it: short, lower-case, readable in a URL.
ENTRY_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,79}")
MAX_ANSWER_CHARS = 4_000


def _entry_id(value: str) -> str:
    if ENTRY_ID.fullmatch(value) is None:
        raise ValueError("an entry id is 1–80 of a–z, 0–9, '.', '_', '-', starting with a letter or digit")
    return value


EntryId = Annotated[str, AfterValidator(_entry_id)]
Question = Annotated[str, Field(min_length=1, max_length=200)]
Label = Annotated[str, Field(min_length=1, max_length=40)]


class KbSource(WireModel):
    """The policy an answer rests on: a document and, where it has them, its article."""

    document: str = Field(min_length=1, max_length=300)
    article: str | None = Field(default=None, max_length=100)

    def cited(self) -> str:
        return self.document if not self.article else f"{self.document} {self.article}"


class KbEntry(WireModel):
    """One answer: the questions it answers, the answer, whose it is, and what it rests on."""

    entry_id: EntryId
    title: str = Field(min_length=1, max_length=200)
    unit: str = Field(min_length=1, max_length=40)  # the responsible unit's code
    categories: tuple[Label, ...] = Field(min_length=1, max_length=5)  # category codes
    tags: tuple[Label, ...] = Field(default=(), max_length=20)
    questions: tuple[Question, ...] = Field(min_length=1, max_length=30)
    answer: str = Field(min_length=1, max_length=MAX_ANSWER_CHARS)
    source: KbSource
    valid_from: date
    valid_to: date | None = None

    @model_validator(mode="after")
    def _valid_period(self) -> KbEntry:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class KbMatch(WireModel):
    """An entry found for a text, its score, and why it matched (the shared words, in Chinese)."""

    entry: KbEntry
    score: float = Field(ge=0)
    why: tuple[str, ...] = ()
    current: bool = True  # valid today; an out-of-date entry is still shown, marked


__all__ = ["ENTRY_ID", "MAX_ANSWER_CHARS", "EntryId", "KbEntry", "KbMatch", "KbSource"]
