"""The knowledge base (知识库): entries read from a file, and searched with an appeal's words."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain import public_names

if TYPE_CHECKING:
    from domain.kb.entries import (
        KbFile,
        KbFileError,
        entries_from_csv,
        entries_from_document,
        reference_problems,
    )
    from domain.kb.search import KbSearchIndex

__all__ = [
    "KbFile",
    "KbFileError",
    "KbSearchIndex",
    "entries_from_csv",
    "entries_from_document",
    "reference_problems",
]

__getattr__ = public_names(
    __name__,
    {
        "KbFile": "entries",
        "KbFileError": "entries",
        "KbSearchIndex": "search",
        "entries_from_csv": "entries",
        "entries_from_document": "entries",
        "reference_problems": "entries",
    },
)
