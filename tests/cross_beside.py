"""`shaobao triage cross` over the shipped files, run beside the broker tests instead of after them.

The cross builds one triager per labelled file (about 90 s of both cores), and the floors
that read it (tests/integration/test_triage_cross.py) run late in the integration tier. The
end-to-end and integration tests before them mostly wait on Kafka, PostgreSQL and the browser,
so the cross starts as soon as the session knows it will be needed, in one low-priority
process, and the floors test reads what it printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Long enough for the cross on a loaded two-core machine; a hung cross fails the floors test.
WAIT_S = 1200


@dataclass
class _Run:
    process: subprocess.Popen[bytes]
    out: Path
    err: Path


_running: _Run | None = None


def start() -> None:
    """Start the cross (once per session), at the lowest CPU priority."""
    global _running
    if _running is not None:
        return
    folder = Path(tempfile.mkdtemp(prefix="shaobao-cross-"))
    out, err = folder / "cross.txt", folder / "cross.err"
    command = [sys.executable, "-m", "shaobao.cli", "triage", "cross", "--jobs", "1"]
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(command, cwd=REPO, stdout=stdout, stderr=stderr)
    os.setpriority(os.PRIO_PROCESS, process.pid, 19)
    _running = _Run(process, out, err)


def output() -> str:
    """What the cross printed, once it has finished (started now if it was not); fails loudly."""
    start()
    assert _running is not None
    code = _running.process.wait(timeout=WAIT_S)
    printed = _running.out.read_text(encoding="utf-8")
    assert code == 0, f"shaobao triage cross exited {code}: {_running.err.read_text(encoding='utf-8')}"
    return printed


def stop() -> None:
    """End the cross if the session ends before its reader ran (a failed or partial run)."""
    if _running is not None and _running.process.poll() is None:
        _running.process.kill()
        _running.process.wait()
