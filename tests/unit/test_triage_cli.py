"""`shaobao triage`: decisions as JSON lines, `--eval` figures, and floors that guard the lexicon."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from shaobao import triage_cli

FIRE = {
    "id": "c1",
    "channel": "phone",
    "received_at": "2026-03-02T09:15:00+08:00",
    "text": "来电人称玉潭街道城北社区一栋居民楼的楼道里电动车着火了，浓烟已经冲到三四楼。",
    "address": None,
    "caller": {},
    "expect": {
        "appeal_type": "help",
        "category": "emergency.fire",
        "urgency": "emergency",
        "town": "yutan",
        "disposition": "transfer",
        "lead": None,
        "co": [],
    },
}
WATER = {
    **FIRE,
    "id": "c2",
    "text": "回龙铺镇金玉村老十三组停水三天了，全组几十户挑水吃。",
    "expect": {
        "appeal_type": "help",
        "category": "utility.water",
        "urgency": "urgent",
        "town": "huilongpu",
        "disposition": "dispatch",
        "lead": "slj",
        "co": ["huilongpu", "gsgs"],
    },
}


def run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    code = triage_cli.run(argv, out=out)
    return code, out.getvalue()


def write_lines(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def test_triage_writes_one_decision_per_line_with_the_input_id(tmp_path: Path) -> None:
    code, out = run([str(write_lines(tmp_path / "in.jsonl", [FIRE, WATER]))])
    decisions = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [(d["id"], d["disposition"], d["lead"], d["transfer_to"]) for d in decisions] == [
        ("c1", "transfer", None, "119"),
        ("c2", "dispatch", "slj", None),
    ]
    assert decisions[1]["co"] == ["gsgs", "huilongpu"]


def test_an_invalid_line_is_reported_and_the_rest_still_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run([str(write_lines(tmp_path / "in.jsonl", [{**FIRE, "text": ""}, WATER]))])
    assert code == 1
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["c2"]
    assert "in.jsonl:1: invalid appeal" in capsys.readouterr().err


def test_eval_reports_each_field_and_compares_co_as_a_set(tmp_path: Path) -> None:
    code, out = run(["--eval", str(write_lines(tmp_path / "in.jsonl", [FIRE, WATER]))])
    assert code == 0
    for field in ("appeal_type", "category", "urgency", "town", "disposition", "lead", "co"):
        assert re.search(rf"^  {field} +100\.0% \(2/2\)$", out, re.M), field
    assert "auto-dispatch rate (dispatched / should dispatch): 100.0% (1/1)" in out
    assert "emergencies missed:                                0 of 1 (none)" in out


def test_eval_as_a_word_reports_the_manual_rate_and_emergency_recall(tmp_path: Path) -> None:
    code, out = run(["eval", str(write_lines(tmp_path / "in.jsonl", [FIRE, WATER]))])
    assert code == 0
    assert "manual rate (sent to a person / all):                0.0% (0/2)" in out
    assert "emergency recall (transferred or urgent+):         100.0% (1/1)" in out
    assert "urgent appeals raised to urgent or above:          100.0% (1/1)" in out


def test_an_emergency_dispatched_is_caught_when_raised_to_urgent_and_missed_when_not(tmp_path: Path) -> None:
    # Both labelled emergencies: a village without water for three days (the triager raises it
    # to urgent) and a broken street lamp (it does not, and the eval must say so).
    as_emergency = {**json.loads(json.dumps(WATER["expect"])), "urgency": "emergency"}
    outage = {**WATER, "id": "c3", "expect": as_emergency}
    lamp = {
        **WATER,
        "id": "c4",
        "text": "回龙铺镇金玉村老十三组路口的路灯坏了一个礼拜。",
        "expect": as_emergency,
    }
    path = write_lines(tmp_path / "in.jsonl", [outage, lamp])
    decided = [json.loads(line) for line in run([str(path)])[1].splitlines()]
    assert [(d["disposition"], d["urgency"]) for d in decided] == [
        ("dispatch", "urgent"),
        ("dispatch", "normal"),
    ]
    code, out = run(["--eval", str(path)])
    assert code == 0
    assert "emergency recall (transferred or urgent+):          50.0% (1/2)" in out
    assert "emergencies missed:                                1 of 2 (c4)" in out


# Floors, not targets: they fail when a change makes triage worse than it was measured.
# One `shaobao triage cross` over the shipped files grades each on a model (and gate) taught
# by the others; the floors sit a little below the figures measured on 2026-12-01.
FLOORS = {
    # file: (lead on auto-dispatched %, auto-dispatch rate %), measured lead / auto
    "appeals_labeled.jsonl": (96.5, 94.5),  # 97.4, 95.5
    "triage_dev.jsonl": (98.0, 96.5),  # 98.6, 97.3
    "triage_dev2.jsonl": (96.5, 97.5),  # 97.3, 98.6
    "triage_holdout.jsonl": (95.5, 90.5),  # 96.4, 91.8
    "triage_blind2.jsonl": (95.5, 95.5),  # 96.7, 96.8
    "triage_dev3.jsonl": (93.5, 94.5),  # 94.2, 95.4
    "triage_dev4.jsonl": (96.5, 93.0),  # 97.3, 93.8
    "triage_blind3.jsonl": (97.0, 95.0),  # 98.0, 96.0 (graded blind before it was shipped)
}
SUMMARY = re.compile(
    r"^(?P<name>\S+) +(?P<n>\d+) +(?P<category>[\d.]+) +(?P<type>[\d.]+) +(?P<auto>[\d.]+)"
    r" +(?P<lead>[\d.]+) +(?P<town>[\d.]+) +(?P<missed>\d+)/(?P<emergencies>\d+) +[\d.]+$",
    re.M,
)


@pytest.fixture(scope="module")
def cross_rows() -> dict[str, dict[str, float]]:
    code, out = run(["cross"])
    assert code == 0
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
    lead, auto = FLOORS[name]
    measured = cross_rows[name]
    assert measured["lead"] >= lead, measured
    assert measured["auto"] >= auto, measured
    assert measured["town"] >= 98.5, measured  # dev2 d2033 names two towns
    assert measured["missed"] == 0, measured


def test_pooled_over_the_held_out_files_triage_meets_the_targets(
    cross_rows: dict[str, dict[str, float]],
) -> None:
    # The targets: lead right on 95% of auto-dispatches, 90% of dispatchable appeals
    # dispatched automatically, town right on 97% where resolvable, no emergency missed.
    pooled = cross_rows["pooled"]
    assert pooled["lead"] >= 95.0 and pooled["auto"] >= 90.0 and pooled["town"] >= 97.0, pooled
    assert (pooled["missed"], pooled["emergencies"]) == (0, 155), pooled


def labelled(rows: int, prefix: str, text: str, expect: dict[str, object]) -> list[dict[str, object]]:
    return [
        {**FIRE, "id": f"{prefix}{i}", "text": f"{text}（{prefix}{i}）", "expect": expect}
        for i in range(rows)
    ]


def test_cross_grades_each_file_on_a_model_taught_by_the_others_and_pools_the_counts(tmp_path: Path) -> None:
    fire, water = FIRE["expect"], WATER["expect"]
    first = write_lines(tmp_path / "a.jsonl", labelled(3, "a", FIRE["text"], fire))  # type: ignore[arg-type]
    second = write_lines(tmp_path / "b.jsonl", labelled(2, "b", WATER["text"], water))  # type: ignore[arg-type]
    third = write_lines(tmp_path / "c.jsonl", labelled(4, "c", WATER["text"], water))  # type: ignore[arg-type]
    code, out = run(["cross", str(first), str(second), str(third)])
    assert code == 0
    held_out = re.findall(r"^== held out: (\S+) \(model from (\d+) appeals,", out, re.M)
    assert held_out == [("a.jsonl", "6"), ("b.jsonl", "7"), ("c.jsonl", "5")]
    pooled = out[out.index("== pooled") :]
    assert re.search(r"^appeals: 9$", pooled, re.M)
    assert "auto-dispatch rate (dispatched / should dispatch): 100.0% (6/6)" in pooled
    assert "emergencies missed:                                0 of 3 (none)" in pooled
    summary = [line.split()[:2] for line in out.splitlines()[-4:]]
    assert summary == [["a.jsonl", "3"], ["b.jsonl", "2"], ["c.jsonl", "4"], ["pooled", "9"]]


def test_cross_needs_two_files_to_leave_one_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(["cross", str(write_lines(tmp_path / "a.jsonl", [FIRE]))])
    assert code == 2
    assert "needs at least two labelled files" in capsys.readouterr().err
