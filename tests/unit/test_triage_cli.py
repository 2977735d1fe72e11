"""`shaobao triage`: decisions as JSON lines, `--eval` figures, and floors that guard the lexicon."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from shaobao import triage_cli

FIRE: dict[str, Any] = {
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
WATER: dict[str, Any] = {
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


def labelled(rows: int, prefix: str, text: str, expect: dict[str, object]) -> list[dict[str, object]]:
    return [
        {**FIRE, "id": f"{prefix}{i}", "text": f"{text}（{prefix}{i}）", "expect": expect}
        for i in range(rows)
    ]


def test_cross_grades_each_file_on_a_model_taught_by_the_others_and_pools_the_counts(tmp_path: Path) -> None:
    fire, water = FIRE["expect"], WATER["expect"]
    first = write_lines(tmp_path / "a.jsonl", labelled(3, "a", FIRE["text"], fire))
    second = write_lines(tmp_path / "b.jsonl", labelled(2, "b", WATER["text"], water))
    third = write_lines(tmp_path / "c.jsonl", labelled(4, "c", WATER["text"], water))
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


HIDDEN_REPORT: dict[str, Any] = {
    "id": "k1",
    "channel": "phone",
    "received_at": "2026-03-02T21:15:00+08:00",
    "text": "喂 那个 专塘村 有户人家 在河边 偷偷 倒那个 建筑垃圾 倒了好多车了 你们去查一下 莫讲是我讲的",
    "address": "",
    "caller": {},
    "kinds": ["transcript", "hidden_report"],
    "expect": {
        "appeal_type": "report",
        "category": "sanitation.garbage",
        "urgency": "normal",
        "town": "meitanba",
        "disposition": "dispatch",
        "lead": "meitanba",
        "co": [],
    },
}
TWO_PROBLEMS: dict[str, Any] = {
    "id": "k2",
    "channel": "web",
    "received_at": "2026-03-02T23:40:00+08:00",
    "text": (
        "玉潭街道香山社区楼下广场舞每天晚上放音乐到十点半，吵得孩子没法写作业。"
        "另外小区门口天天有车乱停，把消防通道都堵了。"
    ),
    "address": "",
    "caller": {"name": "刘女士", "phone": "13807311234"},
    "kinds": ["two_problem"],
    "expect": {
        "appeal_type": "complaint",
        "category": "noise.social",
        "second_category": "traffic.parking",
        "urgency": "normal",
        "town": "yutan",
        "disposition": "dispatch",
        "lead": "gaj",
        "co": ["yutan"],
    },
}


def test_eval_counts_protected_reporters_two_problems_and_each_kind_of_input(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "kinds.jsonl", [HIDDEN_REPORT, TWO_PROBLEMS, WATER])
    code, out = run(["--eval", "--no-model", str(path)])
    assert code == 0
    assert "reports whose reporter is protected:               100.0% (1/1)" in out
    assert "other appeals whose caller is withheld:              0.0% (0/2)" in out
    assert "two-problem appeals flagged (the labelled second): 100.0% (1/1)" in out
    assert "one-problem appeals flagged as two:                  0.0% (0/2)" in out
    kinds = out[out.index("by kind of input") :].splitlines()[2:]
    assert [line.split()[:2] for line in kinds] == [
        ["clean", "1"],
        ["hidden_report", "1"],
        ["transcript", "1"],
        ["two_problem", "1"],
    ]
    decided = {d["id"]: d for d in map(json.loads, run(["--no-model", str(path)])[1].splitlines())}
    assert decided["k2"]["second_category"] == "traffic.parking"
    assert decided["k1"]["caller_withheld"] and decided["k1"]["town"] == "meitanba"
