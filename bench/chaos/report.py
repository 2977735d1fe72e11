"""What a chaos run leaves behind: bench/chaos.json, and RELIABILITY.md's table between its markers."""

from __future__ import annotations

import json
import platform
import re
import subprocess
from collections import Counter
from pathlib import Path

from bench.chaos.run import MAX_STALL_S, ZERO_OUTCOMES, ChaosResult
from bench.pipeline import machine as bench_machine
from streams.settings import REPO_ROOT

RESULTS = REPO_ROOT / "bench" / "chaos.json"
RELIABILITY = REPO_ROOT / "RELIABILITY.md"
BEGIN, END = "<!-- chaos:start -->", "<!-- chaos:end -->"


def commit() -> str:
    """HEAD's full hash, `+dirty` when the work tree differs from it."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, check=False, cwd=REPO_ROOT
        ).stdout

    head = git("rev-parse", "HEAD").strip() or "uncommitted"
    return head + ("+dirty" if git("status", "--porcelain").strip() else "")


def machine() -> dict[str, str]:
    """`make bench`'s description of the machine, with the operating system's name."""
    described = {key: value for key, value in bench_machine().items() if key != "commit"}
    try:
        system = platform.freedesktop_os_release().get("PRETTY_NAME", platform.system())
    except OSError:
        system = platform.system()
    return described | {"os": system}


def write_results(found: dict[str, object], path: Path = RESULTS) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(found, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def table(result: ChaosResult, described: dict[str, str], at_commit: str) -> str:
    """RELIABILITY.md's section, markers included: the faults by kind, the outcomes, where and when."""
    o, m = result.outcomes, described
    faults = Counter(f.kind for f in result.faults)
    fates = ", ".join(f"{fate} {n}" for fate, n in sorted(o.fates.items()))
    failures = result.failures()
    verdict = "FAILED: " + "; ".join(failures) if failures else "passed"
    lines = [
        BEGIN,
        f"Measured by `make chaos` on {result.started_at:%Y-%m-%d %H:%M} UTC (commit `{at_commit}`):"
        f" {result.load_s / 60:.1f} min of load at {result.rate_per_s:g} appeals/s, {result.brokers}"
        f" broker(s), up to {result.workers_max} workers, seed {result.seed}; {m['cpu']}, {m['cores']}"
        f" cores, {m['memory_gib']} GiB, {m['os']}, Linux {m['kernel']}.",
        "",
        "| fault | count |",
        "|---|---|",
        *(f"| `{kind}` | {n} |" for kind, n in sorted(faults.items())),
        f"| all | {faults.total()} |",
        "",
        "| outcome | value |",
        "|---|---|",
        f"| appeals | {o.appeals} ({fates}) |",
        *(f"| {name.replace('_', ' ')} | {getattr(o, name)} |" for name in ZERO_OUTCOMES),
        f"| longest stall (at most {MAX_STALL_S:g} s) | {o.max_stall_s:.1f} s |",
        f"| dispatch p50 / p99, quiet | {_ms(o.dispatch_p50_ms_quiet)} / {_ms(o.dispatch_p99_ms_quiet)} |",
        f"| dispatch p50 / p99, during faults | {_ms(o.dispatch_p50_ms_faults)}"
        f" / {_ms(o.dispatch_p99_ms_faults)} |",
        f"| processes that exited on their own (restarted) | {sum(not e.planned for e in result.exits)} |",
        f"| result | {verdict} |",
        "",
        *scale_out(result),
        END,
    ]
    return "\n".join(lines)


# The faults that change the workers in the group: each is followed by a rebalance.
REGROUPING = ("worker_join", "worker_leave", "worker_kill", "worker_pause")


def scale_out(result: ChaosResult) -> list[str]:
    """Per fault that changed the group: the workers after it, how long until the group was
    Stable, the longest stall of dispatching around it, and the intake partitions per worker."""
    stalls = result.outcomes.stall_by_fault_s
    rows = []
    for i, fault in enumerate(result.faults):
        if fault.kind not in REGROUPING:
            continue
        held = fault.observed.get("partitions_per_worker")
        workers, spread = (len(held), " / ".join(map(str, held))) if isinstance(held, list) else ("?", "?")
        stable = _s(fault.observed.get("group_stable_after_s"))
        stalled = _s(stalls[i] if i < len(stalls) else None)
        rows.append(f"| `{fault.kind}` {fault.target} | {workers} | {stable} | {stalled} | {spread} |")
    if not rows:
        return []
    return [
        "| worker fault | workers after | group Stable after | dispatch stalled | intake partitions each |",
        "|---|---|---|---|---|",
        *rows,
    ]


def _s(value: object) -> str:
    return f"{value:.1f} s" if isinstance(value, int | float) else "—"


def _ms(value: float | None) -> str:
    return "none measured" if value is None else f"{value:.0f} ms"


def update_reliability(block: str, path: Path = RELIABILITY) -> bool:
    """Replace what is between the chaos markers (kept) with `block`; False without markers."""
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(text):
        return False
    path.write_text(pattern.sub(lambda _: block, text, count=1), encoding="utf-8")
    return True
