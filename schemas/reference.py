"""A jurisdiction published on `config.reference` for the running workers to take up (hot reload)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.base import AwareDatetime, WireModel

# A jurisdiction file with its lexicon is a few hundred kilobytes at most; Kafka's default
# message size (1 MB) bounds the record anyway.
MAX_REFERENCE_CHARS = 900_000


class ReferencePublished(WireModel):
    """The jurisdiction and lexicon files as written, and the version that names both.

    Keyed by the jurisdiction code on a compacted topic, so the latest one per
    jurisdiction is kept and a worker starting up reads it before anything else.
    `version` is a digest of both files: each triage decision records it.
    """

    schema_version: Literal[1] = 1
    version: str = Field(min_length=1, max_length=64)
    jurisdiction_code: str = Field(min_length=1, max_length=100)
    jurisdiction_yaml: str = Field(min_length=1, max_length=MAX_REFERENCE_CHARS)
    lexicon_yaml: str = Field(min_length=1, max_length=MAX_REFERENCE_CHARS)
    published_at: AwareDatetime
