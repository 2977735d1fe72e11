"""Kafka and PostgreSQL for development and tests: reuse what runs, start what is missing, stop it again.

A service named in the environment (KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL) belongs to
someone else: it is only checked, never started or stopped. Everything else lives in one
state dir (default: the repo's `.state`, or SHAOBAO_STATE_DIR), with pid files that let a
later command find what an earlier one started.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from infra.local.kafka import (
    DEFAULT_CACHE_DIR,
    REPO_ROOT,
    LocalKafka,
    LocalKafkaCluster,
    ensure_kafka_jars,
    kafka_node_ids,
)
from infra.local.postgres import LocalPostgres
from streams.kafka_access import KafkaAccess
from streams.settings import kafka_access

KAFKA_ENV = "KAFKA_BOOTSTRAP_SERVERS"
DATABASE_ENV = "DATABASE_URL"
STATE_DIR_ENV = "SHAOBAO_STATE_DIR"
BROKERS_ENV = "SHAOBAO_KAFKA_BROKERS"
MAX_BROKERS = 5


class ServiceUnavailableError(RuntimeError):
    """A service named in the environment does not answer."""


@dataclass(frozen=True)
class ServiceEndpoints:
    # The local broker's `admin` principal, or what the environment names.
    kafka: KafkaAccess
    database_url: str

    def as_env(self) -> dict[str, str]:
        return {**self.kafka.as_env(), DATABASE_ENV: self.database_url}


@dataclass(frozen=True)
class LocalPorts:
    kafka: int = 9092
    kafka_controller: int = 9093
    postgres: int = 55432


def default_state_dir() -> Path:
    return Path(os.environ.get(STATE_DIR_ENV) or REPO_ROOT / ".state")


def brokers_wanted(env: dict[str, str] | None = None) -> int:
    """How many local brokers to start: SHAOBAO_KAFKA_BROKERS (1 unless set; 3 for a replicated cluster)."""
    raw = (os.environ if env is None else env).get(BROKERS_ENV, "").strip() or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_BROKERS:
        raise ServiceUnavailableError(
            f"{BROKERS_ENV}={raw!r}: give a number of brokers from 1 to {MAX_BROKERS}"
        )
    return int(raw)


LocalBrokers = LocalKafka | LocalKafkaCluster


def local_kafka(state_dir: Path, ports: LocalPorts | None = None, brokers: int = 1) -> LocalBrokers:
    """The single broker (`state_dir/kafka`), or a cluster of `brokers` (`state_dir/kafka-cluster`):
    two state dirs, since a node's metadata log remembers the quorum it was formatted for."""
    ports = ports or LocalPorts()
    libs_dir = DEFAULT_CACHE_DIR / "libs"
    if brokers == 1:
        return LocalKafka(
            state_dir / "kafka", libs_dir, port=ports.kafka, controller_port=ports.kafka_controller
        )
    return local_kafka_cluster(state_dir, ports, brokers)


def local_kafka_cluster(state_dir: Path, ports: LocalPorts | None, brokers: int) -> LocalKafkaCluster:
    ports = ports or LocalPorts()
    return LocalKafkaCluster(
        state_dir / "kafka-cluster",
        DEFAULT_CACHE_DIR / "libs",
        size=brokers,
        port=ports.kafka,
        controller_port=ports.kafka_controller,
    )


def _every_local_kafka(state_dir: Path) -> list[LocalBrokers]:
    """The single broker and the cluster of this state dir, whichever ran last (either may)."""
    found: list[LocalBrokers] = [local_kafka(state_dir)]
    cluster_dir = state_dir / "kafka-cluster"
    if cluster_dir.is_dir():
        size = len(list(cluster_dir.glob("node-*")))
        found.append(LocalKafkaCluster(cluster_dir, DEFAULT_CACHE_DIR / "libs", size=max(size, 1)))
    return found


def local_postgres(state_dir: Path, ports: LocalPorts | None = None) -> LocalPostgres:
    return LocalPostgres(state_dir / "postgres", port=(ports or LocalPorts()).postgres)


def services_up(
    state_dir: Path | None = None, ports: LocalPorts | None = None, brokers: int | None = None
) -> ServiceEndpoints:
    """Start what is missing and leave it running (detached); write `state_dir/services.env`."""
    wanted = brokers or brokers_wanted()
    endpoints, _started = _bring_up(state_dir or default_state_dir(), ports or LocalPorts(), wanted)
    return endpoints


def services_down(state_dir: Path | None = None) -> None:
    """Stop the Kafka and PostgreSQL of `state_dir`, whoever started them; no process stays behind."""
    state_dir = state_dir or default_state_dir()
    if not state_dir.is_dir():
        return
    with _state_lock(state_dir):
        for kafka in _every_local_kafka(state_dir):
            kafka.stop()
        local_postgres(state_dir).stop()
        (state_dir / "services.env").unlink(missing_ok=True)


def services_purge(state_dir: Path | None = None) -> None:
    """Stop the services and delete the PostgreSQL cluster's files where they live outside
    the state dir (the caller deletes the state dir itself: `make clean`)."""
    state_dir = state_dir or default_state_dir()
    if not state_dir.is_dir():
        return
    services_down(state_dir)
    with _state_lock(state_dir):
        local_postgres(state_dir).remove()


def services_status(state_dir: Path | None = None) -> dict[str, str]:
    """Per service: `running (pid N)`, `stopped`, or `external <VAR>=<value>` from the environment."""
    state_dir = state_dir or default_state_dir()
    pids = [kafka.pid() for kafka in _every_local_kafka(state_dir)]
    return {
        "kafka": _status(KAFKA_ENV, next((pid for pid in pids if pid is not None), None)),
        "postgres": _status(DATABASE_ENV, local_postgres(state_dir).pid()),
    }


def _status(env_name: str, pid: int | None) -> str:
    if os.environ.get(env_name):
        return f"external {env_name}={os.environ[env_name]}"
    return f"running (pid {pid})" if pid is not None else "stopped"


@contextmanager
def running_services(
    state_dir: Path | None = None, ports: LocalPorts | None = None, brokers: int | None = None
) -> Iterator[ServiceEndpoints]:
    """Kafka (`brokers` nodes; SHAOBAO_KAFKA_BROKERS, or 1) and PostgreSQL for the duration of
    the block; on exit stops only what it started."""
    state_dir = state_dir or default_state_dir()
    endpoints, started = _bring_up(state_dir, ports or LocalPorts(), brokers or brokers_wanted())
    try:
        yield endpoints
    finally:
        with _state_lock(state_dir):
            for service in reversed(started):
                service.stop()


Service = LocalKafka | LocalKafkaCluster | LocalPostgres


def _bring_up(state_dir: Path, ports: LocalPorts, brokers: int) -> tuple[ServiceEndpoints, list[Service]]:
    state_dir.mkdir(parents=True, exist_ok=True)
    started: list[Service] = []
    with _state_lock(state_dir):
        try:
            endpoints = ServiceEndpoints(
                kafka=_kafka_endpoint(local_kafka(state_dir, ports, brokers), started),
                database_url=_postgres_endpoint(local_postgres(state_dir, ports), started),
            )
        except BaseException:
            for service in reversed(started):
                service.stop()  # a half-started pair would otherwise linger without an owner
            raise
        env_file = state_dir / "services.env"
        staging = env_file.with_suffix(".env.partial")
        # It holds the admin's password: readable by its owner only.
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write("".join(f"{key}={value}\n" for key, value in endpoints.as_env().items()))
        staging.replace(env_file)
    return endpoints, started


def _kafka_endpoint(kafka: LocalBrokers, started: list[Service]) -> KafkaAccess:
    if os.environ.get(KAFKA_ENV) or os.environ.get("KAFKA_CLIENT_FILE"):
        external = kafka_access(dict(os.environ))
        _check_kafka(external)
        return external
    if not kafka.is_running():
        ensure_kafka_jars(DEFAULT_CACHE_DIR)
        kafka.start()
        started.append(kafka)
    return kafka.admin_access


def _postgres_endpoint(postgres: LocalPostgres, started: list[Service]) -> str:
    external = os.environ.get(DATABASE_ENV)
    if external:
        _check_postgres(external)
        return external
    if not postgres.is_running():
        postgres.start()
        started.append(postgres)
    return postgres.url


# A service started just before us (compose, a CI service container) may still be loading.
_EXTERNAL_WAIT_S = 15.0


def _check_kafka(access: KafkaAccess) -> None:
    deadline = time.monotonic() + _EXTERNAL_WAIT_S
    while True:
        if kafka_node_ids(access):
            return
        if time.monotonic() >= deadline:
            raise ServiceUnavailableError(
                f"{KAFKA_ENV}={access.bootstrap_servers}: no broker answers a metadata request"
                f" (as {access.principal} over {access.security_protocol})"
            )
        time.sleep(0.5)


def _check_postgres(url: str) -> None:
    deadline = time.monotonic() + _EXTERNAL_WAIT_S
    while True:
        error = _select_one(url)
        if error is None:
            return
        if time.monotonic() >= deadline:
            raise ServiceUnavailableError(f"{DATABASE_ENV}: SELECT 1 failed: {error}")
        time.sleep(0.5)


def _select_one(url: str) -> str | None:
    async def select_one() -> None:
        connection = await asyncpg.connect(url, timeout=5)
        try:
            await connection.fetchval("SELECT 1")
        finally:
            await connection.close()

    # Its own thread and event loop, so callers inside a running loop can use this too.
    with ThreadPoolExecutor(max_workers=1) as pool:
        try:
            pool.submit(lambda: asyncio.run(select_one())).result()
        except Exception as error:  # any failure means "not reachable"; the message says why
            return f"{type(error).__name__}: {error}"
    return None


@contextmanager
def _state_lock(state_dir: Path) -> Iterator[None]:
    # Two `up`s at once (parallel make targets, two terminals) would start two brokers on one state dir.
    with (state_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
