"""The bad-input corpus against the intake decoder alone: each kind gets the reason it is
labelled with (the integration test then checks the same against the running pipeline)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from streams.codecs import IntakeRejection, decode_appeal
from tests.badinputs import BadInput, bad_inputs, corpus_entries

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
INPUTS = bad_inputs("unit", NOW)


def test_the_corpus_has_98_distinct_kinds_with_known_outcomes() -> None:
    kinds = [entry["kind"] for entry in corpus_entries()]
    assert len(kinds) == len(set(kinds)) == 98
    assert Counter(i.expect for i in INPUTS) == {
        "schema_violation": 51,
        "ticket": 20,
        "invalid_json": 15,
        "invalid_utf8": 7,
        "too_large": 2,
        "bad_key": 2,
        "duplicate": 1,
    }


@pytest.mark.parametrize("bad", INPUTS, ids=[i.kind for i in INPUTS])
def test_each_input_is_decoded_or_rejected_with_its_labelled_reason(bad: BadInput) -> None:
    try:
        appeal = decode_appeal(bad.value, bad.key, NOW)
    except IntakeRejection as rejection:
        assert rejection.reason == bad.expect, rejection.message
        assert rejection.message
    else:
        assert bad.expect in ("ticket", "duplicate")
        assert appeal.source_id == bad.source_id
