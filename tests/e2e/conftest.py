"""E2E fixtures: the session's real services, a headless Debian Chromium via Playwright, and
`shaobao run` launched as a user launches it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from infra.local.services import ServiceEndpoints
from shaobao.launch import ISSUED_TOPIC_PREFIXES, create_database, free_port, run_coroutine

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is required (make test installs it)"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


REPO = Path(__file__).resolve().parents[2]


@dataclass
class RunningStack:
    """`shaobao run` started as a user starts it, with this run's own topics and database."""

    process: subprocess.Popen[str]
    env: dict[str, str]
    port: int
    database_url: str
    prefix: str
    lines: list[str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def launched_stack(
    endpoints: ServiceEndpoints, workdir: Path, args: Sequence[str] = ("--rate", "2"), **extra_env: str
) -> Iterator[RunningStack]:
    """`python -m shaobao.cli run ARGS` until "Shaobao is ready"; stopped with Ctrl-C (SIGINT) on exit."""
    run = uuid.uuid4().hex[:8]
    prefix = f"e2e{run}."
    ISSUED_TOPIC_PREFIXES.add(prefix)  # the session deletes this run's topics at its end
    database_url = run_coroutine(create_database(endpoints.database_url, f"shaobao_e2e_{run}"))
    port = free_port()
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("KAFKA_")},
        **endpoints.kafka.as_env(),
        "DATABASE_URL": database_url,
        "SHAOBAO_TOPIC_PREFIX": prefix,
        "SHAOBAO_WEB_PORT": str(port),
        "SHAOBAO_WORKER_WEB_PORT": str(free_port()),
        "SHAOBAO_WORKER_DATADIR": str(workdir / "worker"),
        "SHAOBAO_STATE_DIR": str(workdir / "state"),
        "PYTHONUNBUFFERED": "1",
        **extra_env,
    }
    process = subprocess.Popen(  # noqa: S603 - our own entry point
        [sys.executable, "-m", "shaobao.cli", "run", *args],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 180
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Shaobao is ready" in line:
            break
    try:
        assert any("Shaobao is ready" in line for line in lines), "".join(lines)
        yield RunningStack(process, env, port, database_url, prefix, lines)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        process.stdout.close()
