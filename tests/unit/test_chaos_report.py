"""RELIABILITY.md's chaos section: the outcomes, and per worker fault the scale-out figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.chaos.audit import Outcomes
from bench.chaos.faults import FaultRecord
from bench.chaos.report import BEGIN, END, scale_out, table, update_reliability
from bench.chaos.run import ChaosResult
from shaobao.launch import Pipeline
from streams.names import TopicNames
from streams.settings import Settings

T0 = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)
MACHINE = {"cpu": "Xeon", "cores": "2", "memory_gib": "23.5", "os": "Debian 12", "kernel": "6.1"}


def fault(kind: str, target: str, at_s: float, **observed: object) -> FaultRecord:
    began = T0 + timedelta(seconds=at_s)
    return FaultRecord(kind, target, at_s, began, began + timedelta(seconds=5), dict(observed))  # type: ignore[arg-type]


def result(faults: list[FaultRecord], stalls: tuple[float, ...], missed: int = 0) -> ChaosResult:
    outcomes = Outcomes(
        appeals=100,
        appeals_unaccounted=0,
        fates={"ticket": 97, "duplicate": 0, "rejection": 3, "dead_letter": 0},
        orders_conflicting=0,
        orders_missing=0,
        marks_missed=missed,
        marks_doubled=0,
        verify_differences=0,
        max_stall_s=max(stalls, default=0.0),
        dispatch_p50_ms_quiet=140.0,
        dispatch_p99_ms_quiet=700.0,
        dispatch_p50_ms_faults=1400.0,
        dispatch_p99_ms_faults=17000.0,
        stall_by_fault_s=stalls,
    )
    settings = Settings.from_env({})
    pipeline = Pipeline(settings, TopicNames(settings.topic_prefix), {}, Path("worker.log"))
    return ChaosResult(pipeline, outcomes, (), faults, (), 100, 3, 3, 5.0, 16, False, T0, 600.0, 777.0)


def test_each_worker_fault_shows_the_workers_the_regrouping_the_stall_and_the_balance() -> None:
    faults = [
        fault("poison", "appeals.intake", 5),
        fault("worker_join", "worker-2", 10, group_stable_after_s=3.21, partitions_per_worker=[3, 3]),
        fault("worker_join", "worker-3", 40, group_stable_after_s=4.0, partitions_per_worker=[2, 2, 2]),
        fault("worker_leave", "worker-3", 70, group_stable_after_s=1.2, partitions_per_worker=[3, 3]),
        fault("worker_kill", "worker-1", 90, group_stable_after_s=None, recovered=False),
    ]
    assert scale_out(result(faults, (0.0, 4.25, 5.0, 1.5, 12.0))) == [
        "| worker fault | workers after | group Stable after | dispatch stalled | intake partitions each |",
        "|---|---|---|---|---|",
        "| `worker_join` worker-2 | 2 | 3.2 s | 4.2 s | 3 / 3 |",
        "| `worker_join` worker-3 | 3 | 4.0 s | 5.0 s | 2 / 2 / 2 |",
        "| `worker_leave` worker-3 | 2 | 1.2 s | 1.5 s | 3 / 3 |",
        "| `worker_kill` worker-1 | ? | — | 12.0 s | ? |",
    ]
    assert scale_out(result([fault("burst", "appeals.intake", 5)], (2.0,))) == []


def test_the_section_names_every_outcome_and_the_verdict_and_replaces_only_its_markers(
    tmp_path: Path,
) -> None:
    block = table(result([fault("web_restart", "web", 5)], (1.0,), missed=2), MACHINE, "abc123")
    lines = block.splitlines()
    assert (lines[0], lines[-1]) == (BEGIN, END)
    assert "| `web_restart` | 1 |" in lines and "| all | 1 |" in lines
    assert "| appeals | 100 (dead_letter 0, duplicate 0, rejection 3, ticket 97) |" in lines
    assert "| marks missed | 2 |" in lines
    assert "| dispatch p50 / p99, during faults | 1400 ms / 17000 ms |" in lines
    assert "| result | FAILED: marks_missed = 2 |" in lines
    page = tmp_path / "RELIABILITY.md"
    page.write_text(f"# R\nbefore\n{BEGIN}\nold\n{END}\nafter\n", encoding="utf-8")
    assert update_reliability(block, page)
    assert page.read_text(encoding="utf-8") == f"# R\nbefore\n{block}\nafter\n"
    bare = tmp_path / "bare.md"
    bare.write_text("no markers\n", encoding="utf-8")
    assert not update_reliability(block, bare)
    assert bare.read_text(encoding="utf-8") == "no markers\n"
