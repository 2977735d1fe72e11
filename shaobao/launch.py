"""Launching an isolated pipeline on running services: a fresh database, a unique topic
prefix and one worker process. Used by the integration tests and by `make bench`."""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

from infra.kafka.readiness import group_has_members
from infra.kafka.topics import ensure_topics
from infra.reference import load_jurisdiction
from shaobao.bootstrap import all_topic_specs
from streams.kafka_access import KafkaAccess
from streams.names import TopicNames
from streams.settings import Settings

WORKER_JOIN_TIMEOUT_S = 120.0
_PR_SET_PDEATHSIG = 1
T = TypeVar("T")


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code, even where this thread already
    runs an event loop (Playwright's sync API, a test runner): in a thread of its own."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Pipeline:
    settings: Settings
    names: TopicNames
    env: dict[str, str]
    worker_log: Path


async def create_database(admin_url: str, name: str) -> str:
    """A new empty database beside the one in `admin_url`; returns its URL."""
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin_url.rsplit("/", 1)[0] + "/" + name


# Topic prefixes this process handed out: a test session deletes their topics at its end, and
# only theirs (other sessions may share the broker).
ISSUED_TOPIC_PREFIXES: set[str] = set()


def isolated_env(kafka: KafkaAccess, database_url: str, workdir: Path, label: str) -> dict[str, str]:
    run = f"{label}{uuid.uuid4().hex[:8]}"
    ISSUED_TOPIC_PREFIXES.add(f"{run}.")
    db_url = run_coroutine(create_database(database_url, f"shaobao_{run}"))
    return {
        **{name: value for name, value in os.environ.items() if not name.startswith("KAFKA_")},
        **kafka.as_env(),
        "DATABASE_URL": db_url,
        "SHAOBAO_TOPIC_PREFIX": f"{run}.",
        "SHAOBAO_WORKER_WEB_PORT": str(free_port()),
        "SHAOBAO_WEB_PORT": str(free_port()),
        "SHAOBAO_WORKER_DATADIR": str(workdir / "worker"),
        "PYTHONUNBUFFERED": "1",
    }


def _die_with_parent() -> None:
    """In the child: a session of its own, and SIGTERM when the parent dies (even by SIGKILL),
    so no worker, web or simulator outlives the command that started it."""
    os.setsid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn_cli(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Run `shaobao <args>` as a child whose output goes to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:  # the child keeps its own descriptor
        return subprocess.Popen(  # noqa: S603 - our own entry point
            [sys.executable, "-m", "shaobao.cli", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - only setsid and prctl, no locks taken
        )


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return spawn_cli(["worker", "--loglevel", "info"], env, log)


def stop_process(
    process: subprocess.Popen[bytes], sig: signal.Signals = signal.SIGTERM, timeout_s: float = 30
) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        # A worker stuck in shutdown must not outlive the run that started it.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_for_worker(process: subprocess.Popen[bytes], settings: Settings, log: Path) -> None:
    group = TopicNames(settings.topic_prefix).app_id
    deadline = time.monotonic() + WORKER_JOIN_TIMEOUT_S
    while not run_coroutine(group_has_members(settings.kafka, group)):
        if process.poll() is not None:
            raise RuntimeError(f"worker exited with {process.returncode}; see {log}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"worker did not join its group in {WORKER_JOIN_TIMEOUT_S}s; see {log}")
        time.sleep(0.5)


@contextmanager
def isolated_pipeline(
    kafka: KafkaAccess, database_url: str, workdir: Path, label: str = "t"
) -> Iterator[Pipeline]:
    """Topics, a database and a running worker of their own; the worker is stopped on exit."""
    env = isolated_env(kafka, database_url, workdir, label)
    settings = Settings.from_env(env)
    specs = all_topic_specs(settings, load_jurisdiction(settings.jurisdiction_file))
    run_coroutine(ensure_topics(settings.kafka, specs))
    log = workdir / "worker.log"
    worker = start_worker(env, log)
    try:
        wait_for_worker(worker, settings, log)
        yield Pipeline(settings=settings, names=TopicNames(settings.topic_prefix), env=env, worker_log=log)
    finally:
        stop_process(worker)
