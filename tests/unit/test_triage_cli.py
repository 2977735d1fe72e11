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
BLIND2 = REPO / "tests" / "data" / "triage_blind2.jsonl"
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
    assert "emergency recall (transferred, or manual+urgent):  100.0% (1/1)" in out
    assert "urgent appeals raised to urgent or above:          100.0% (1/1)" in out


def test_an_emergency_sent_to_a_unit_is_missed_even_when_raised_to_urgent(tmp_path: Path) -> None:
    # The water outage labelled as an emergency: a work order to a unit, however urgent, is a miss.
    expect = {**json.loads(json.dumps(WATER["expect"])), "urgency": "emergency"}
    dispatched = {**WATER, "id": "c3", "expect": expect}
    code, out = run(["--eval", str(write_lines(tmp_path / "in.jsonl", [dispatched]))])
    assert code == 0
    assert "emergency recall (transferred, or manual+urgent):    0.0% (0/1)" in out
    assert "emergencies missed:                                1 of 1 (c3)" in out


def figures(path: Path) -> dict[str, float]:
    _, out = run(["--eval", str(path)])
    found = {label: float(value) for label, value in re.findall(r"^(.+?):\s+([\d.]+)% \(", out, re.M)}
    missed = re.search(r"^emergencies missed:\s+(\d+) of", out, re.M)
    assert missed is not None
    found["emergencies missed"] = float(missed.group(1))
    return found


# Floors, not targets: they fail when a change makes triage worse than it was measured.
# The corpus is graded with the model trained on the two dev sets only (its own lines left out).
def test_the_shipped_corpus_stays_above_its_measured_floor() -> None:
    measured = figures(CORPUS)
    assert measured["lead correct on auto-dispatched"] >= 98.3, measured  # 303/308
    assert measured["auto-dispatch rate (dispatched / should dispatch)"] >= 86.0, measured  # 308/358
    assert measured["town correct where resolvable"] >= 99.0, measured
    assert measured["emergencies missed"] == 0, measured


# The blind sets were graded once, after tuning on the corpus and the dev sets only; see the
# triage report in BENCHMARKS.md. Their figures are floors: never tune to their wording.
BLIND_FLOORS = {
    # file: (lead on auto-dispatched %, auto-dispatch rate %, emergencies missed)
    HOLDOUT: (86.5, 82.0, 0),  # lead 45/52, auto 50/61, emergencies 9/9
    BLIND2: (94.7, 88.7, 2),  # lead 54/57, auto 55/62, emergencies 11/13
}


@pytest.mark.parametrize("path", list(BLIND_FLOORS), ids=["holdout", "blind2"])
def test_the_blind_sets_stay_above_their_measured_floor(path: Path) -> None:
    lead, auto, missed = BLIND_FLOORS[path]
    measured = figures(path)
    print(path.name, measured)
    assert measured["town correct where resolvable"] == 100.0, measured
    assert measured["lead correct on auto-dispatched"] >= lead, measured
    assert measured["auto-dispatch rate (dispatched / should dispatch)"] >= auto, measured
    assert measured["emergencies missed"] <= missed, measured


def both_blind_sets(tmp_path: Path) -> Path:
    pooled = tmp_path / "blind.jsonl"
    pooled.write_text(HOLDOUT.read_text(encoding="utf-8") + BLIND2.read_text(encoding="utf-8"), "utf-8")
    return pooled


def test_on_the_blind_sets_together_nine_auto_dispatches_in_ten_go_to_the_right_lead(tmp_path: Path) -> None:
    measured = figures(both_blind_sets(tmp_path))
    print(measured)
    assert measured["lead correct on auto-dispatched"] >= 90.0, measured  # 99/109 = 90.8%


@pytest.mark.xfail(
    strict=True, reason="target not met: holdout lead 86.5% (45/52); blind2 misses 2 of 13 emergencies"
)
@pytest.mark.parametrize("path", list(BLIND_FLOORS), ids=["holdout", "blind2"])
def test_target_each_blind_set_leads_right_nine_times_in_ten_and_misses_no_emergency(path: Path) -> None:
    measured = figures(path)
    print(path.name, measured)
    assert measured["lead correct on auto-dispatched"] >= 90.0, measured
    assert measured["emergency recall (transferred, or manual+urgent)"] == 100.0, measured
