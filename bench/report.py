"""The one writer of BENCHMARKS.md: each benchmark owns a section between its own markers."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from streams.settings import REPO_ROOT

REPORT = REPO_ROOT / "BENCHMARKS.md"


def markers(name: str) -> tuple[str, str]:
    """The comment lines that open and close the section `name`."""
    return f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"


def write_section(results_path: Path, results: dict[str, Any], block: str, begin: str, end: str) -> None:
    """The results as JSON, and `block` in BENCHMARKS.md between its markers (other sections kept)."""
    results_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.DOTALL)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + block
    REPORT.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
