"""`shaobao triage`: decisions as JSON lines, `--eval` figures, and floors that guard the lexicon."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from shaobao import triage_cli

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "data" / "corpus" / "appeals_labeled.jsonl"
HOLDOUT = REPO / "tests" / "data" / "triage_holdout.jsonl"
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


def figures(path: Path) -> dict[str, float]:
    _, out = run(["--eval", str(path)])
    found = {label: float(value) for label, value in re.findall(r"^(.+?):\s+([\d.]+)% \(", out, re.M)}
    missed = re.search(r"^emergencies missed:\s+(\d+) of", out, re.M)
    assert missed is not None
    found["emergencies missed"] = float(missed.group(1))
    return found


# Floors, not targets: they fail when a lexicon edit makes triage worse than it was.
def test_the_shipped_corpus_stays_above_its_measured_floor() -> None:
    measured = figures(CORPUS)
    assert measured["lead correct on auto-dispatched"] >= 95.0
    assert measured["auto-dispatch rate (dispatched / should dispatch)"] >= 90.0
    assert measured["town correct where resolvable"] >= 99.0
    assert measured["emergencies missed"] == 0


def test_the_held_out_appeals_stay_above_their_measured_floor() -> None:
    # Measured blind on first run (see the triage report); the targets
    # (95% lead, 90% auto-dispatch, no emergency missed) are not met yet.
    measured = figures(HOLDOUT)
    assert measured["town correct where resolvable"] >= 97.0
    assert measured["lead correct on auto-dispatched"] >= 80.0
    assert measured["auto-dispatch rate (dispatched / should dispatch)"] >= 75.0
    assert measured["emergencies missed"] <= 2
