"""Labels checked against the routing table: every shipped labelled file is consistent,
and each kind of slip is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from domain.jurisdiction import Jurisdiction
from domain.triage import label_problems
from infra.examples import DEFAULT_EXAMPLE_FILES

GAS_LEAK = {
    "appeal_type": "help",
    "category": "utility.gas",
    "urgency": "emergency",
    "town": "yutan",
    "disposition": "dispatch",
    "lead": "rqgs",
    "co": ["yjglj"],
}


@pytest.mark.parametrize("path", DEFAULT_EXAMPLE_FILES, ids=[p.stem for p in DEFAULT_EXAMPLE_FILES])
def test_every_shipped_labelled_line_follows_the_routing_table(
    jurisdiction: Jurisdiction, path: Path
) -> None:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 80
    slips = {row["id"]: label_problems(row["expect"], jurisdiction) for row in rows}
    assert {k: v for k, v in slips.items() if v} == {}


def test_a_consistent_label_has_no_problem(jurisdiction: Jurisdiction) -> None:
    assert label_problems(GAS_LEAK, jurisdiction) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"lead": "cgj"}, "lead 'cgj', the routing table says 'rqgs'"),
        ({"co": ["yutan"]}, "co ['yutan'], the routing table says ['yjglj']"),
        ({"urgency": "normal"}, "urgency normal below the category's urgent"),
        ({"category": "utility.steam"}, "unknown category 'utility.steam'"),
        ({"disposition": "transfer", "lead": None}, "utility.gas has no emergency line to transfer to"),
        ({"disposition": "manual"}, "manual: lead and co must be empty"),
    ],
)
def test_each_kind_of_slip_is_named(
    jurisdiction: Jurisdiction, change: dict[str, object], problem: str
) -> None:
    assert problem in label_problems({**GAS_LEAK, **change}, jurisdiction)
