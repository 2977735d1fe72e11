"""The Docker image trains the same triager as `make run`: same examples, same gate, same coverage.

There is no Docker engine here, so the image's files are made the way `docker build` makes its
context: the checkout minus what `.dockerignore` excludes (the Dockerfile copies the context whole,
`COPY . .`). The triager is then built from that copy alone, in a process that imports the copy's
code, and compared with the one built from the checkout.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Builds the triager the worker builds (infra.reference.load_configured: the settings' jurisdiction file,
# the shipped labelled appeals) and prints what decides its dispatches.
BUILD = """
import json, sys
from datetime import UTC, datetime
import infra.reference, domain.triage
from infra.examples import DEFAULT_EXAMPLE_FILES, read_examples
from infra.reference import load_configured
from streams.settings import Settings
examples = read_examples(DEFAULT_EXAMPLE_FILES)
built = load_configured(Settings.from_env(), datetime.now(UTC), examples)
gate = built.router.gate
print(json.dumps({
    "code": infra.reference.__file__,
    "examples": len(examples),
    "version": built.version,
    "threshold": gate.threshold,
    "precision": gate.precision,
    "coverage": gate.coverage,
    "measured_on": gate.measured_on,
}))
"""


def ignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert not any(p.startswith("!") for p in patterns), "exceptions (!) are not read by this test"
    return [p.rstrip("/") for p in patterns]


def excluded(path: str, patterns: list[str]) -> bool:
    """Docker's rule: a pattern excludes the path it matches and everything under it."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    for pattern in patterns:
        if pattern.startswith("**/"):
            tail = pattern[3:]
            if any(fnmatch.fnmatchcase(part, tail) for part in parts):
                return True
        elif any(fnmatch.fnmatchcase(prefix, pattern) for prefix in prefixes):
            return True
    return False


def image_context(into: Path) -> Path:
    files = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    patterns = ignore_patterns()
    for name in files:
        if not excluded(name, patterns) and (REPO / name).is_file():
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target)
    return into


def built_triager(root: Path, cache: Path | None = None) -> dict[str, object]:
    """The triager `root`'s code builds, trained afresh in `cache`, or taken from the checkout's
    own cache (`.cache/triager`, keyed by the examples, the lexicon and the code: what `make run`
    trained, or trained now if it has not been)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHAOBAO_")}
    env.update(PYTHONPATH=str(root), PYTHONDONTWRITEBYTECODE="1")
    if cache is not None:
        env.update(SHAOBAO_CACHE_DIR=str(cache))
    done = subprocess.run(
        [sys.executable, "-c", BUILD], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_dockerignore_rules_are_read_as_docker_reads_them() -> None:
    patterns = ["tests", "**/__pycache__", "*.egg-info", ".git"]
    assert excluded("tests/unit/test_x.py", patterns)
    assert excluded("domain/triage/__pycache__/x.pyc", patterns)
    assert excluded("shaobao.egg-info/PKG-INFO", patterns)
    assert not excluded("data/corpus/triage_dev.jsonl", patterns)
    assert not excluded("domain/ticket/fold.py", patterns)


@pytest.mark.integration
def test_the_image_trains_the_triager_make_run_trains(tmp_path: Path) -> None:
    context = image_context(tmp_path / "context")
    assert (context / "data" / "corpus").is_dir(), "the image would carry no labelled appeals"
    image = built_triager(context, tmp_path / "image-cache")  # trained afresh from the copy
    checkout = built_triager(REPO)  # make run's
    assert str(image.pop("code")).startswith(str(context))  # the copy's own code ran
    assert str(checkout.pop("code")).startswith(str(REPO))
    # Training sums floats in the order of a set of strings, which follows the process's hash
    # seed: two processes on the same files agree to about 1e-15, not bit for bit.
    threshold = float(str(image.pop("threshold")))
    assert threshold == pytest.approx(float(str(checkout.pop("threshold"))), abs=1e-9)
    assert image == checkout
    assert checkout["examples"] == 5755  # every shipped labelled appeal (data/corpus)
