"""`shaobao triage cross` over every shipped labelled file: each graded on a model taught by the
others stays above the floor measured for it. A whole-corpus grading (minutes of CPU), not a unit
test: it runs with the integration tier, beside the broker tests (tests/cross_beside.py)."""

from __future__ import annotations

import re

import pytest

from tests import cross_beside

# Floors, not targets: they fail when a change makes triage worse than it was measured.
# One `shaobao triage cross` over the shipped files grades each on a model (and gate) taught
# by the others; the floors sit a little below the figures measured on 2026-12-08 (34 files).
FLOORS = {
    # file: (lead on auto-dispatched %, auto-dispatch rate %, town %), measured lead, auto, town
    "appeals_labeled.jsonl": (98.0, 92.5, 99.5),  # 99.1, 93.9, 100.0
    "triage_dev.jsonl": (99.0, 93.0, 99.5),  # 100.0, 94.2, 100.0
    "triage_dev2.jsonl": (97.5, 94.5, 98.0),  # 98.6, 95.9, 98.7
    "triage_holdout.jsonl": (95.0, 87.5, 99.5),  # 96.3, 88.5, 100.0
    "triage_blind2.jsonl": (97.0, 95.5, 99.5),  # 98.3, 96.8, 100.0
    "triage_dev3.jsonl": (98.5, 93.0, 99.5),  # 99.5, 94.3, 100.0
    "triage_dev4.jsonl": (97.5, 92.0, 98.0),  # 98.9, 93.3, 98.9
    "triage_blind3.jsonl": (98.0, 97.5, 99.5),  # 99.3, 98.7, 100.0
    "triage_blind4a.jsonl": (94.0, 85.5, 98.0),  # 95.0, 86.7, 98.9
    "triage_blind4b.jsonl": (97.0, 88.5, 99.5),  # 98.1, 89.6, 100.0
    "triage_train5_clean.jsonl": (95.0, 91.5, 99.5),  # 96.0, 92.9, 100.0
    "triage_train5_spoken.jsonl": (97.5, 88.5, 98.5),  # 98.6, 89.9, 99.4
    "triage_train5_pasted.jsonl": (91.5, 91.0, 99.0),  # 92.9, 92.3, 99.5
    "triage_train5_boundary.jsonl": (96.5, 87.5, 99.5),  # 97.9, 88.8, 100.0
    "triage_blind5_clean.jsonl": (98.0, 90.0, 99.5),  # 99.0, 91.3, 100.0
    "triage_blind5_spoken.jsonl": (94.5, 89.0, 97.0),  # 95.5, 90.1, 97.8
    "triage_blind5_pasted.jsonl": (98.0, 87.5, 99.5),  # 99.1, 88.8, 100.0
    "triage_blind5_mixed.jsonl": (96.0, 92.5, 98.0),  # 97.4, 93.8, 98.9
    "triage_blind6_reports.jsonl": (99.0, 89.5, 99.5),  # 100.0, 90.9, 100.0
    "triage_blind6_urgent.jsonl": (99.0, 90.5, 99.5),  # 100.0, 91.9, 100.0
    "triage_blind6_twoproblems.jsonl": (90.0, 79.5, 99.5),  # 91.2, 80.7, 100.0
    "triage_blind6_general.jsonl": (98.0, 92.5, 99.5),  # 99.1, 93.8, 100.0
    "triage_blind7_clean.jsonl": (97.0, 92.5, 99.5),  # 98.1, 93.6, 100.0
    "triage_blind7_spoken.jsonl": (97.0, 93.0, 99.5),  # 98.3, 94.2, 100.0
    "triage_blind7_pasted.jsonl": (95.0, 83.5, 99.5),  # 96.3, 84.5, 100.0
    "triage_blind8_hard.jsonl": (96.0, 86.5, 99.5),  # 97.2, 87.9, 100.0
    "triage_blind8_spoken.jsonl": (94.5, 88.0, 99.5),  # 95.5, 89.3, 100.0
    "triage_blind8_day.jsonl": (95.0, 90.0, 99.5),  # 96.2, 91.2, 100.0
    "triage_blind9_ops.jsonl": (93.5, 91.5, 99.5),  # 94.8, 92.9, 100.0
    "triage_blind9_spoken.jsonl": (98.0, 88.0, 99.5),  # 99.0, 89.0, 100.0
    "triage_blind9_written.jsonl": (92.5, 93.5, 99.5),  # 93.8, 94.9, 100.0
    "triage_blind10_spoken.jsonl": (96.0, 90.0, 99.5),  # 97.3, 91.1, 100.0
    "triage_blind10_written.jsonl": (94.5, 85.0, 99.5),  # 95.8, 86.1, 100.0
    "triage_blind10_boundary.jsonl": (95.0, 87.5, 99.5),  # 96.3, 88.6, 100.0
}
SUMMARY = re.compile(
    r"^(?P<name>\S+) +(?P<n>\d+) +(?P<category>[\d.]+) +(?P<type>[\d.]+) +(?P<auto>[\d.]+)"
    r" +(?P<lead>[\d.]+) +(?P<town>[\d.]+) +(?P<missed>\d+)/(?P<emergencies>\d+) +[\d.]+$",
    re.M,
)


@pytest.fixture(scope="module")
def cross_rows() -> dict[str, dict[str, float]]:
    out = cross_beside.output()  # started when the session was collected (tests/conftest.py)
    return {
        m["name"]: {k: float(v) for k, v in m.groupdict().items() if k != "name"}
        for m in SUMMARY.finditer(out)
    }


def test_cross_grades_every_shipped_file_and_pools_them(cross_rows: dict[str, dict[str, float]]) -> None:
    assert list(cross_rows) == [*FLOORS, "pooled"]
    assert cross_rows["pooled"]["n"] == sum(row["n"] for name, row in cross_rows.items() if name != "pooled")


@pytest.mark.parametrize("name", list(FLOORS))
def test_each_labelled_file_graded_on_the_others_stays_above_its_measured_floor(
    cross_rows: dict[str, dict[str, float]], name: str
) -> None:
    lead, auto, town = FLOORS[name]
    measured = cross_rows[name]
    assert measured["lead"] >= lead, measured
    assert measured["auto"] >= auto, measured
    assert measured["town"] >= town, measured
    assert measured["missed"] == 0, measured


def test_pooled_over_the_held_out_files_triage_stays_above_its_floors(
    cross_rows: dict[str, dict[str, float]],
) -> None:
    # The gate is calibrated to 97.5% right on held-out dispatches, so the lead stays near it;
    # the automatic share is what the messier files cost (issue 14 asks for 97% and 95%).
    pooled = cross_rows["pooled"]
    assert pooled["lead"] >= 97.0 and pooled["auto"] >= 91.0 and pooled["town"] >= 99.0, pooled
    assert (pooled["missed"], pooled["emergencies"]) == (0, 534), pooled
