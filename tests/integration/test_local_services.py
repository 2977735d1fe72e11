"""The Kafka broker and PostgreSQL cluster the project starts itself serve, then leave nothing behind."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from infra.local import LocalKafka, LocalPorts, LocalPostgres, ensure_kafka_jars, running_services
from infra.local.kafka import DEFAULT_CACHE_DIR, REPO_ROOT, kafka_node_ids
from streams.kafka_access import KafkaAccess

pytestmark = pytest.mark.integration


@pytest.fixture
def state_dir() -> Iterator[Path]:
    # Not tmp_path: pytest's base dir is private (0700), and as root PostgreSQL runs as the
    # `postgres` user, who must be able to reach its data dir.
    path = Path(tempfile.mkdtemp(prefix="shaobao-local-services-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def no_external_services(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)


async def test_kafka_and_postgres_serve_then_stop_leaving_no_process(state_dir: Path) -> None:
    # A broker data dir from before SASL (no admin credential): moved aside, not reused.
    (state_dir / "kafka" / "data").mkdir(parents=True)
    (state_dir / "kafka" / "data" / "meta.properties").write_text("version=1\n")
    kafka = LocalKafka(
        state_dir / "kafka", ensure_kafka_jars(DEFAULT_CACHE_DIR), port=19092, controller_port=19093
    )
    postgres = LocalPostgres(state_dir / "postgres", port=29499)
    children_before = _children_of(os.getpid())  # e.g. a session's worker process
    try:
        await asyncio.to_thread(kafka.start)
        await asyncio.to_thread(postgres.start)
        processes = _process_tree(_pid(kafka)) | _process_tree(_pid(postgres))
        assert kafka.bootstrap_servers == "127.0.0.1:19092"
        password = (state_dir / "postgres" / "password").read_text().strip()
        assert postgres.url == f"postgresql://shaobao:{password}@127.0.0.1:29499/shaobao"
        assert (state_dir / "postgres" / "password").stat().st_mode & 0o777 == 0o600

        partitions, key, value = await _round_trip(kafka.admin_access, "local-services.check")
        assert (partitions, key, value) == (6, b"ticket-1", b"hello")
        # Secured from the first start: no anonymous connection gets an answer.
        assert await asyncio.to_thread(kafka_node_ids, KafkaAccess(kafka.bootstrap_servers)) == set()
        assert await asyncio.to_thread(kafka_node_ids, kafka.admin_access) == {1}
        assert (state_dir / "kafka" / "secrets.json").stat().st_mode & 0o777 == 0o600
        [aside] = (state_dir / "kafka").glob("data.unsecured-*")
        assert (aside / "meta.properties").read_text() == "version=1\n"
        assert (state_dir / "kafka" / "data.secured").exists()
        connection = await asyncpg.connect(postgres.url)
        try:
            assert await connection.fetchval("SELECT 1") == 1
            assert await connection.fetchval("SELECT current_database()") == "shaobao"
        finally:
            await connection.close()
        # Like a real server: over TCP, no password or a wrong one is refused.
        for url in (
            "postgresql://shaobao@127.0.0.1:29499/shaobao",
            "postgresql://shaobao:guess@127.0.0.1:29499/shaobao",
        ):
            with pytest.raises(asyncpg.InvalidPasswordError):
                await asyncpg.connect(url)
    finally:
        await asyncio.to_thread(kafka.stop)
        await asyncio.to_thread(postgres.stop)

    assert len(processes) >= 2  # the JVM, the postmaster and its workers
    assert _left_behind(processes) == {}
    assert _children_of(os.getpid()) - children_before == set()  # not even a zombie of ours
    assert kafka.pid() is None
    assert postgres.pid() is None


async def test_postgres_starts_from_a_checkout_its_server_user_cannot_enter() -> None:
    """A clone inside a private home directory (0700), run as root: the server user cannot
    reach it, so the cluster gets a directory of its own and the state dir names it."""
    home = Path(tempfile.mkdtemp(prefix="shaobao-private-home-"))
    home.chmod(0o700)
    state = home / "clone" / ".state" / "postgres"
    postgres = LocalPostgres(state, port=29497)
    try:
        await asyncio.to_thread(postgres.start)
        connection = await asyncpg.connect(postgres.url)
        try:
            assert await connection.fetchval("SELECT current_user") == "shaobao"
        finally:
            await connection.close()
        again = LocalPostgres(state, port=29497)  # a later command finds the same cluster
        assert again.pid() == postgres.pid() is not None
        if os.geteuid() == 0:
            assert postgres.cluster_dir.parent == Path("/var/lib/shaobao")
            assert (state / "cluster.location").read_text() == f"{postgres.cluster_dir}\n"
        else:
            assert postgres.cluster_dir == state  # the server user is us: nothing to move
        outside = postgres.cluster_dir
        await asyncio.to_thread(again.remove)
        assert again.pid() is None
        assert outside.exists() == (outside == state)
    finally:
        await asyncio.to_thread(postgres.stop)
        shutil.rmtree(home, ignore_errors=True)


@pytest.mark.usefixtures("no_external_services")
async def test_up_detaches_running_services_reuses_and_down_stops_everything(state_dir: Path) -> None:
    ports = LocalPorts(kafka=19094, kafka_controller=19095, postgres=29498)
    port_args = ["--kafka-port", "19094", "--kafka-controller-port", "19095", "--postgres-port", "29498"]
    children_before = _children_of(os.getpid())
    up = await asyncio.to_thread(_cli, "up", "--state-dir", str(state_dir), *port_args)
    try:
        admin_password = json.loads((state_dir / "kafka" / "secrets.json").read_text())["admin"]
        pg_password = (state_dir / "postgres" / "password").read_text().strip()
        expected_env = (
            "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:19094\nKAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT\n"
            f"KAFKA_SASL_MECHANISM=SCRAM-SHA-512\nKAFKA_SASL_USERNAME=admin\nKAFKA_SASL_PASSWORD={admin_password}\n"
            f"DATABASE_URL=postgresql://shaobao:{pg_password}@127.0.0.1:29498/shaobao\n"
        )
        assert (up.returncode, up.stdout) == (0, expected_env), up.stderr
        assert (state_dir / "services.env").read_text() == expected_env
        assert (state_dir / "services.env").stat().st_mode & 0o777 == 0o600
        kafka = LocalKafka(state_dir / "kafka", DEFAULT_CACHE_DIR / "libs", port=19094, controller_port=19095)
        postgres = LocalPostgres(state_dir / "postgres", port=29498)
        kafka_pid, postgres_pid = _pid(kafka), _pid(postgres)
        assert _children_of(os.getpid()) == children_before  # detached: they outlived the command

        again = await asyncio.to_thread(_cli, "up", "--state-dir", str(state_dir), *port_args)
        assert (again.returncode, again.stdout) == (0, expected_env), again.stderr
        assert (kafka.pid(), postgres.pid()) == (kafka_pid, postgres_pid)  # reused, not restarted
        with running_services(state_dir, ports) as endpoints:
            assert endpoints.kafka.bootstrap_servers == "127.0.0.1:19094"
            assert (endpoints.kafka.security_protocol, endpoints.kafka.username) == (
                "SASL_PLAINTEXT",
                "admin",
            )
            assert endpoints.database_url == f"postgresql://shaobao:{pg_password}@127.0.0.1:29498/shaobao"
        assert (kafka.pid(), postgres.pid()) == (kafka_pid, postgres_pid)  # reused, so left running
        processes = _process_tree(kafka_pid) | _process_tree(postgres_pid)
    finally:
        down = await asyncio.to_thread(_cli, "down", "--state-dir", str(state_dir))

    assert down.returncode == 0, down.stderr
    assert _left_behind(processes) == {}
    status = _cli("status", "--state-dir", str(state_dir))
    assert (status.returncode, status.stdout) == (3, "kafka: stopped\npostgres: stopped\n")


async def _round_trip(kafka: KafkaAccess, topic: str) -> tuple[int, bytes | None, bytes | None]:
    admin = AIOKafkaAdminClient(**kafka.client_options())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=6, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(**kafka.producer_options())
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"hello", key=b"ticket-1")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(topic, **kafka.client_options(), auto_offset_reset="earliest")
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        record = await asyncio.wait_for(consumer.getone(), timeout=30)
    finally:
        await consumer.stop()
    return len(partitions), record.key, record.value


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infra.local", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )


def _pid(service: LocalKafka | LocalPostgres) -> int:
    pid = service.pid()
    assert pid is not None, f"{service!r} is not running"
    return pid


def _process_tree(root: int) -> set[int]:
    """`root` and every process whose parent is in the tree."""
    tree = {root}
    grew = True
    while grew:
        children = {pid for parent in tree for pid in _children_of(parent)} - tree
        tree |= children
        grew = bool(children)
    return tree


def _children_of(parent: int) -> set[int]:
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited while we looked
        if int(fields[1]) == parent:
            children.add(int(stat.parent.name))
    return children


def _left_behind(pids: set[int]) -> dict[int, str]:
    """Those of `pids` still in the process table (zombies included) after init had time to reap,
    each with its /proc stat line for the failure message."""
    deadline = time.monotonic() + 10
    # Stopped services were reparented to init, which reaps its zombies on its own schedule.
    while (present := _stat_lines(pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return present


def _stat_lines(pids: set[int]) -> dict[int, str]:
    lines = {}
    for pid in pids:
        try:
            lines[pid] = Path(f"/proc/{pid}/stat").read_text()[:80]
        except OSError:
            continue  # gone
    return lines
