"""The KRaft Apache Kafka brokers the project starts itself: one node, or a cluster of three.

No tarball and no Docker: Maven fetches the broker's jars once (infra/kafka/pom.xml), and
`LocalKafka` runs `kafka.Kafka` from them with a configuration it writes. `LocalKafkaCluster`
runs several such nodes, each both broker and controller (combined mode: three JVMs, not six,
on a small machine), voting in one static controller quorum.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from infra.kafka.topics import replication_for
from streams.kafka_access import KafkaAccess

REPO_ROOT = Path(__file__).resolve().parents[2]
POM = REPO_ROOT / "infra" / "kafka" / "pom.xml"
LOG4J_CONFIG = REPO_ROOT / "infra" / "kafka" / "log4j.properties"
DEFAULT_CACHE_DIR = REPO_ROOT / ".cache" / "kafka"

NODE_ID = 1
ADMIN = "admin"
# Kafka's defaults for the JVM (bin/kafka-run-class.sh), minus the heap, which the caller sizes.
_JVM_PERFORMANCE_OPTS = (
    "-server",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:MaxInlineLevel=15",
    "-Djava.awt.headless=true",
)
_LOG_ROTATE_BYTES = 10 * 1024 * 1024


class LocalKafkaError(RuntimeError):
    """The local broker could not be fetched, started or stopped."""


def _say(message: str) -> None:
    # Progress for a person at a terminal; stderr keeps stdout for the endpoints.
    print(f"[local kafka] {message}", file=sys.stderr, flush=True)


def ensure_kafka_jars(cache_dir: Path = DEFAULT_CACHE_DIR) -> Path:
    """Fetch the broker's jars into `cache_dir/libs` unless a previous fetch completed; return that dir.

    The marker holds the pom's hash, so bumping the Kafka version in the pom fetches again
    (into a fresh directory: two Kafka versions on one classpath would not start).
    """
    libs_dir = cache_dir / "libs"
    marker = cache_dir / "libs.complete"
    pom_hash = hashlib.sha256(POM.read_bytes()).hexdigest()
    if marker.is_file() and marker.read_text().strip() == pom_hash and any(libs_dir.glob("kafka_*.jar")):
        return libs_dir
    require_java()
    mvn = shutil.which("mvn")
    if mvn is None:
        raise LocalKafkaError(
            "Maven (mvn) is needed once to fetch the Kafka jars: apt-get install -y maven "
            f"(or copy the jars of {POM} into {libs_dir} and write {marker})"
        )
    partial = cache_dir / "libs.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    _say(f"fetching the Kafka broker jars with Maven into {libs_dir} (once; a minute or two)…")
    began = time.monotonic()
    argv = [mvn, "-q", "-B", "-f", str(POM), "dependency:copy-dependencies"]
    argv += [f"-DoutputDirectory={partial}", "-DincludeScope=runtime"]
    try:
        # A download stalled on a dead mirror connection would otherwise hang `make` for good.
        result = subprocess.run(argv, capture_output=True, text=True, timeout=1800, check=False)  # noqa: S603
    except subprocess.TimeoutExpired as timeout:
        raise LocalKafkaError("mvn did not finish fetching the Kafka jars within 30 minutes") from timeout
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()[-30:]
        raise LocalKafkaError("mvn could not fetch the Kafka jars:\n" + "\n".join(output))
    shutil.rmtree(libs_dir, ignore_errors=True)
    partial.rename(libs_dir)
    for archive in cache_dir.glob("kafka-*.jsa"):
        archive.unlink()  # class archives of the jars just replaced
    marker.write_text(pom_hash + "\n")
    _say(f"fetched {len(list(libs_dir.glob('*.jar')))} jars in {time.monotonic() - began:.1f}s")
    return libs_dir


def require_java() -> str:
    java = shutil.which("java")
    if java is None:
        raise LocalKafkaError(
            "a Java 17+ runtime is needed for Kafka: apt-get install -y openjdk-17-jre-headless"
        )
    return java


def server_properties(
    *,
    host: str,
    port: int,
    controller_port: int,
    log_dir: Path,
    admin_password: str,
    controller_password: str,
    partitions: int = 6,
    node_id: int = NODE_ID,
    voters: str | None = None,
    replication: int = 1,
) -> dict[str, str]:
    """A node's configuration: both broker and KRaft controller, secured.

    `voters` names the controller quorum (`id@host:port,...`; this node alone by default).
    `replication` is how many copies the cluster keeps of its internal topics, and the default
    for topics created without a factor: 1 on one broker; 3 with `min.insync.replicas` 2 on
    three, so an acknowledged write survives the loss of any one broker and a second loss
    stops writes rather than risking them (`replication_for`).

    Clients authenticate with SASL/SCRAM-SHA-512 (`CLIENT` listener, which the broker also
    uses to talk to itself, as `admin`); the controller listener takes SASL/PLAIN with one
    static user, since KRaft controllers cannot read SCRAM credentials before the metadata
    log they hold. The StandardAuthorizer denies whatever no ACL allows: anonymous
    connections are refused at the handshake, and each principal gets only its bindings
    (`streams.principals`).
    """
    return (
        _node(host=host, port=port, controller_port=controller_port, node_id=node_id, voters=voters)
        | _security(admin_password, controller_password)
        | _storage(log_dir, partitions, replication)
    )


def _node(*, host: str, port: int, controller_port: int, node_id: int, voters: str | None) -> dict[str, str]:
    """The node's roles, its quorum and its two listeners: clients (and brokers) and controllers."""
    return {
        "process.roles": "broker,controller",
        "node.id": str(node_id),
        "controller.quorum.voters": voters or f"{node_id}@{host}:{controller_port}",
        "listeners": f"CLIENT://{host}:{port},CONTROLLER://{host}:{controller_port}",
        "advertised.listeners": f"CLIENT://{host}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "CLIENT",
        "listener.security.protocol.map": "CONTROLLER:SASL_PLAINTEXT,CLIENT:SASL_PLAINTEXT",
    }


def _security(admin_password: str, controller_password: str) -> dict[str, str]:
    """SCRAM for clients, PLAIN for the controllers, and an authorizer that denies what no ACL allows."""
    plain_module = "org.apache.kafka.common.security.plain.PlainLoginModule"
    scram_module = "org.apache.kafka.common.security.scram.ScramLoginModule"
    return {
        "sasl.enabled.mechanisms": "SCRAM-SHA-512",
        "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": (
            f'{plain_module} required username="controller" password="{controller_password}"'
            f' user_controller="{controller_password}";'
        ),
        "listener.name.client.scram-sha-512.sasl.jaas.config": (
            f'{scram_module} required username="{ADMIN}" password="{admin_password}";'
        ),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": f"User:{ADMIN};User:controller",
        "allow.everyone.if.no.acl.found": "false",
    }


def _storage(log_dir: Path, partitions: int, replication: int) -> dict[str, str]:
    """Where the logs live, how many partitions and copies topics get, and how fast groups start."""
    copies, min_insync = replication_for(replication)
    props = {
        "log.dirs": str(log_dir),
        "num.partitions": str(partitions),
        # Internal topics cannot have more replicas than there are brokers.
        "offsets.topic.replication.factor": str(copies),
        "transaction.state.log.replication.factor": str(copies),
        "transaction.state.log.min.isr": str(min_insync),
        "default.replication.factor": str(copies),
        "min.insync.replicas": str(min_insync),
        # Fewer partitions than the default 50 make the first consumer group and the first
        # transactional producer (Faust's exactly-once) come up in a fraction of the time.
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.num.partitions": "10",
        # Tests start groups all the time; the default 3 s delay would be paid on each.
        "group.initial.rebalance.delay.ms": "0",
        # Topics are created on purpose: the project's own (infra/kafka/topics.py) and Faust's
        # internal ones (changelogs, repartitions) through CreateTopics. A typo'd name in a
        # producer then fails loudly instead of creating a stray topic with default settings.
        "auto.create.topics.enable": "false",
    }
    if replication > 1:
        # A broker that stops heartbeating to the controller is fenced after this long, and the
        # partitions it led get new leaders from the replicas in sync: 4 s on loopback, not
        # Kafka's 9 s, so a killed broker stalls its partitions' writers for about 5 s.
        props["broker.session.timeout.ms"] = "4000"
        props["broker.heartbeat.interval.ms"] = "1000"
    return props


class LocalKafka:
    """One broker process whose state (config, data, log, pid) lives in `state_dir`.

    The broker runs in its own session (so its own process group): a Ctrl-C meant for
    the command that started it does not reach it, and `stop()` shuts it down in order.
    The pid file lets a later process (`python -m infra.local down`) find and stop it.
    """

    def __init__(
        self,
        state_dir: Path,
        libs_dir: Path,
        host: str = "127.0.0.1",
        port: int = 9092,
        controller_port: int = 9093,
        heap: str = "1g",
        log4j_config: Path = LOG4J_CONFIG,
        *,
        node_id: int = NODE_ID,
        voters: str | None = None,
        replication: int = 1,
        shared_dir: Path | None = None,
    ) -> None:
        # Absolute: the pid check matches the config path in the broker's command line,
        # which a later command run from another directory must reproduce.
        self.state_dir = state_dir.resolve()
        self.libs_dir = libs_dir.resolve()
        self.host = host
        self.port = port
        self.controller_port = controller_port
        self.heap = heap
        self.log4j_config = log4j_config
        self.node_id = node_id
        self.voters = voters
        self.replication = replication
        self.config_file = self.state_dir / "server.properties"
        self.data_dir = self.state_dir / "data"
        self.log_file = self.state_dir / "kafka.log"
        self.pid_file = self.state_dir / "kafka.pid"
        # What the nodes of one cluster share: its id, and the admin's and the controller's
        # passwords, random per install (mode 0600). Then the mark that the data dir was
        # formatted with the admin's SCRAM credential.
        shared = (shared_dir or state_dir).resolve()
        self.cluster_id_file = shared / "cluster.id"
        self.secrets_file = shared / "secrets.json"
        self.secured_mark = self.state_dir / "data.secured"
        self.started_at: datetime | None = None
        self.startup_s: float | None = None
        self._child: int | None = None
        self._began = time.monotonic()
        self._partial_archive = self.state_dir / "kafka.jsa.partial"

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def admin_access(self) -> KafkaAccess:
        """The `admin` principal of this broker (its password is created on first start)."""
        return KafkaAccess(
            bootstrap_servers=self.bootstrap_servers,
            security_protocol="SASL_PLAINTEXT",
            sasl_mechanism="SCRAM-SHA-512",
            username=ADMIN,
            password=self._secrets()["admin"],
        )

    def _secrets(self) -> dict[str, str]:
        try:
            return dict(json.loads(self.secrets_file.read_text()))
        except FileNotFoundError:
            pass
        created = {"admin": secrets.token_urlsafe(24), "controller": secrets.token_urlsafe(24)}
        self.secrets_file.parent.mkdir(parents=True, exist_ok=True)
        staging = self.secrets_file.with_suffix(".partial")
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(created, out)
        staging.replace(self.secrets_file)
        return created

    def __repr__(self) -> str:
        return f"LocalKafka({self.bootstrap_servers}, state_dir={self.state_dir})"

    def pid(self) -> int | None:
        """The pid of this state dir's broker when it is alive, else None (a stale pid file is removed)."""
        self._reap_exited_child()
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        if pid == self._child or (self._is_ours(pid) and _alive(pid)):
            return pid  # our own child counts until reaped
        self.pid_file.unlink(missing_ok=True)
        return None

    def is_running(self) -> bool:
        """True when this state dir's broker is alive and answers on its port."""
        return self.pid() is not None and self.node_id in kafka_node_ids(self.admin_access)

    def start(self, timeout_s: float = 90.0) -> None:
        """Format the storage on first use, start the broker and wait until it serves metadata."""
        began = time.monotonic()
        self.launch()
        self.wait_ready(began + timeout_s)

    def launch(self) -> None:
        """Format the storage on first use and start the broker, without waiting for it: a node
        of a cluster serves only once a majority of the controller quorum is up."""
        self._began = time.monotonic()
        running = self.pid()
        if running is not None:
            raise LocalKafkaError(f"{self!r} is already running (pid {running}); see {self.log_file}")
        for port in (self.port, self.controller_port):
            if _listening(self.host, port):
                raise LocalKafkaError(f"{self.host}:{port} is already taken by another process")
        java = require_java()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._set_aside_unsecured_data()
        passwords = self._secrets()
        props = server_properties(
            host=self.host,
            port=self.port,
            controller_port=self.controller_port,
            log_dir=self.data_dir,
            admin_password=passwords["admin"],
            controller_password=passwords["controller"],
            node_id=self.node_id,
            voters=self.voters,
            replication=self.replication,
        )
        # The config holds the passwords: readable by its owner only.
        fd = os.open(self.config_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write("".join(f"{key}={value}\n" for key, value in props.items()))
        if not (self.data_dir / "meta.properties").exists():
            self._format_storage(java, passwords["admin"])
            self.secured_mark.write_text("formatted with the admin's SCRAM-SHA-512 credential\n")
        self._rotate_log()
        argv = [
            java,
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            *_JVM_PERFORMANCE_OPTS,
            *self._class_archive_opts(),
        ]
        argv += [f"-Dlog4j.configuration=file:{self.log4j_config}", "-cp", self._classpath()]
        argv += ["kafka.Kafka", str(self.config_file)]
        self._child = _spawn_in_own_session(argv, self.log_file)
        self.pid_file.write_text(f"{self._child}\n")

    def wait_ready(self, deadline: float) -> None:
        """Wait (until the monotonic `deadline`) for the launched broker to serve metadata."""
        if self._child is None:
            raise LocalKafkaError(f"{self!r} was not launched by this process")
        self._wait_ready(self._child, deadline)
        self.started_at = datetime.now(UTC)
        self.startup_s = time.monotonic() - self._began
        _say(
            f"Kafka node {self.node_id} ready on {self.bootstrap_servers}"
            f" in {self.startup_s:.1f}s (pid {self._child})"
        )

    def kill(self) -> None:
        """SIGKILL, as a lost machine or the OOM killer would: no controlled shutdown."""
        pid = self.pid()
        if pid is None:
            return
        _signal_group(pid, signal.SIGKILL)
        if not self._wait_exited(pid, 10.0):
            raise LocalKafkaError(f"Kafka (pid {pid}) survived SIGKILL")
        self._partial_archive.unlink(missing_ok=True)
        self.pid_file.unlink(missing_ok=True)

    def stop(self, timeout_s: float = 60.0) -> None:
        """SIGTERM (controlled shutdown), then SIGKILL if the broker has not exited after `timeout_s`."""
        pid = self.pid()
        if pid is None:
            return
        _say(f"stopping Kafka (pid {pid})")
        _signal_group(pid, signal.SIGTERM)
        # A broker stuck in shutdown (e.g. waiting on a controller that is gone) would hang `down`.
        if self._wait_exited(pid, timeout_s):
            self._keep_class_archive()
        else:
            _say(f"Kafka did not stop within {timeout_s:.0f}s; killing it")
            _signal_group(pid, signal.SIGKILL)
            # SIGKILL cannot be ignored; the wait only covers the kernel tearing the process down.
            if not self._wait_exited(pid, 10.0):
                raise LocalKafkaError(f"Kafka (pid {pid}) survived SIGKILL")
            self._partial_archive.unlink(missing_ok=True)  # the dump may have been cut short
        self.pid_file.unlink(missing_ok=True)

    def _exited(self, pid: int) -> bool:
        """Our own child has exited once reaped: its zombie may still have threads winding down.
        A broker an earlier command started is gone once it is a zombie (init reaps it) or absent."""
        self._reap_exited_child()
        return pid != self._child and not _alive(pid)

    def _wait_exited(self, pid: int, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while not self._exited(pid):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
        return True

    def _reap_exited_child(self) -> None:
        """Collect the broker's exit status when this process started it, so no zombie stays behind."""
        if self._child is None:
            return
        try:
            reaped, _ = os.waitpid(self._child, os.WNOHANG)
        except ChildProcessError:
            reaped = self._child
        if reaped == self._child:
            self._child = None

    def _set_aside_unsecured_data(self) -> None:
        """A data dir formatted before the broker was secured has no `admin` credential, and no
        client could ever authenticate to it: it is moved aside (kept, not deleted) and said so."""
        if self.secured_mark.exists() or not (self.data_dir / "meta.properties").exists():
            return
        aside = self.state_dir / f"data.unsecured-{datetime.now(UTC):%Y%m%d%H%M%S}"
        self.data_dir.rename(aside)
        _say(f"the broker's data predates SASL/ACLs; moved it to {aside} and starting afresh")

    def _format_storage(self, java: str, admin_password: str) -> None:
        if not self.cluster_id_file.exists():
            # The tool logs to stdout too; the id is its last line.
            cluster_id = self._storage_tool(java, "random-uuid").strip().splitlines()[-1]
            if not re.fullmatch(r"[A-Za-z0-9_-]{22}", cluster_id):
                raise LocalKafkaError(f"StorageTool random-uuid printed {cluster_id!r}, not a cluster id")
            self.cluster_id_file.write_text(cluster_id + "\n")
        cluster_id = self.cluster_id_file.read_text().strip()
        _say(f"formatting Kafka storage in {self.data_dir} (cluster {cluster_id})")
        admin_scram = f"SCRAM-SHA-512=[name={ADMIN},password={admin_password}]"
        self._storage_tool(
            java, "format", "-t", cluster_id, "-c", str(self.config_file), "--add-scram", admin_scram
        )

    def _class_archive_opts(self) -> list[str]:
        """Class-data sharing for Kafka's own classes: warm starts take ~1.3 s instead of ~2.2 s.

        The first start dumps the classes it loaded when the broker exits (into this state
        dir, so two brokers never write one file); `stop()` publishes the dump next to the
        jars, keyed by the JVM and the jar set, which an archive only matches exactly.
        """
        shared = self._shared_archive()
        if shared.is_file():
            return [f"-XX:SharedArchiveFile={shared}"]
        self._partial_archive.unlink(missing_ok=True)
        # The dump warns about every class it skips (old class-file versions); not news.
        return [f"-XX:ArchiveClassesAtExit={self._partial_archive}", "-Xlog:cds=error"]

    def _shared_archive(self) -> Path:
        java_bin = Path(require_java()).resolve()
        jars = sorted(jar.name for jar in self.libs_dir.glob("*.jar"))
        key = hashlib.sha256(f"{java_bin}:{java_bin.stat().st_mtime_ns}:{jars}".encode()).hexdigest()
        return self.libs_dir.parent / f"kafka-{key[:16]}.jsa"

    def _keep_class_archive(self) -> None:
        if not self._partial_archive.is_file():
            return
        shared = self._shared_archive()
        if not shared.exists():
            # Copy then rename: the state dir may be on another filesystem, and a reader
            # must never see half an archive.
            staging = shared.with_name(f"{shared.name}.{os.getpid()}")
            shutil.copyfile(self._partial_archive, staging)
            staging.replace(shared)
        self._partial_archive.unlink()

    def _storage_tool(self, java: str, *args: str) -> str:
        argv = [java, f"-Dlog4j.configuration=file:{self.log4j_config}", "-cp", self._classpath()]
        argv += ["kafka.tools.StorageTool", *args]
        # A JVM that cannot start (bad classpath, no memory) should fail the command, not hang it.
        result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
        if result.returncode != 0:
            raise LocalKafkaError(f"StorageTool {args[0]} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    def _classpath(self) -> str:
        # Listed in a fixed order rather than `libs/*` (directory order): a class archive
        # records the classpath and is only used when it matches exactly.
        jars = sorted(str(jar) for jar in self.libs_dir.glob("*.jar"))
        if not any(Path(jar).name.startswith("kafka_") for jar in jars):
            raise LocalKafkaError(f"no Kafka jars in {self.libs_dir}; call ensure_kafka_jars() first")
        return os.pathsep.join(jars)

    def _rotate_log(self) -> None:
        if self.log_file.exists() and self.log_file.stat().st_size > _LOG_ROTATE_BYTES:
            self.log_file.replace(self.log_file.with_suffix(".log.1"))

    def _wait_ready(self, pid: int, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self._exited(pid):
                self.pid_file.unlink(missing_ok=True)
                raise LocalKafkaError(
                    f"Kafka exited during start-up; {self.log_file} ends with:\n{self._tail()}"
                )
            if self.node_id in kafka_node_ids(self.admin_access):
                return
            # The JVM takes a few seconds to load, recover its logs and unfence itself.
            time.sleep(0.2)
        self.stop(timeout_s=10.0)
        raise LocalKafkaError(
            f"Kafka did not answer on {self.bootstrap_servers} within the start timeout; "
            f"{self.log_file} ends with:\n{self._tail()}"
        )

    def _tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def _is_ours(self, pid: int) -> bool:
        """Guards against pid reuse: the process must be a broker started with this state dir's config."""
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return b"kafka.Kafka" in argv and os.fsencode(self.config_file) in argv


class LocalKafkaCluster:
    """`size` nodes on loopback, each both broker and controller, one static quorum of them all.

    Node i (from 1) listens on `port + 2(i-1)` for clients and `controller_port + 2(i-1)` for
    the quorum (9092/9093, 9094/9095, 9096/9097 by default), keeps its state in
    `state_dir/node-i`, and shares the cluster id and the passwords in `state_dir`. Combined
    nodes rather than separate controllers: three JVMs instead of six on a 2-core machine, and
    losing one node still leaves a majority of the quorum (two of three) and two in-sync
    replicas of every partition. Clients bootstrap from every node, so any one may be down.
    """

    def __init__(
        self,
        state_dir: Path,
        libs_dir: Path,
        size: int = 3,
        host: str = "127.0.0.1",
        port: int = 9092,
        controller_port: int = 9093,
        heap: str = "512m",
    ) -> None:
        if size < 1:
            raise LocalKafkaError(f"a cluster has at least one node, not {size}")
        ids = range(1, size + 1)
        ports = [(port + 2 * (i - 1), controller_port + 2 * (i - 1)) for i in ids]
        taken = [p for pair in ports for p in pair]
        if len(set(taken)) != len(taken):
            raise LocalKafkaError(f"the nodes' ports overlap: {ports}; choose ports further apart")
        voters = ",".join(f"{i}@{host}:{controller}" for i, (_, controller) in zip(ids, ports, strict=True))
        self.state_dir = state_dir.resolve()
        self.nodes = [
            LocalKafka(
                self.state_dir / f"node-{i}",
                libs_dir,
                host,
                client,
                controller,
                heap,
                node_id=i,
                voters=voters,
                replication=size,
                shared_dir=self.state_dir,
            )
            for i, (client, controller) in zip(ids, ports, strict=True)
        ]

    def __repr__(self) -> str:
        return f"LocalKafkaCluster({self.bootstrap_servers}, state_dir={self.state_dir})"

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(node.bootstrap_servers for node in self.nodes)

    @property
    def admin_access(self) -> KafkaAccess:
        return dataclasses.replace(self.nodes[0].admin_access, bootstrap_servers=self.bootstrap_servers)

    def node(self, node_id: int) -> LocalKafka:
        for node in self.nodes:
            if node.node_id == node_id:
                return node
        raise LocalKafkaError(f"{self!r} has no node {node_id}")

    def pid(self) -> int | None:
        """The first live node's pid (for a status line); None when no node runs."""
        return next((pid for node in self.nodes if (pid := node.pid()) is not None), None)

    def is_running(self) -> bool:
        """Every node alive and every one listed by the cluster."""
        listed = kafka_node_ids(self.admin_access)
        return all(node.pid() is not None and node.node_id in listed for node in self.nodes)

    def start(self, timeout_s: float = 120.0) -> None:
        """Launch the nodes that are not running (all at first, a killed one later), then wait
        for each to serve and for every node's metadata to list every other."""
        deadline = time.monotonic() + timeout_s
        launched = [node for node in self.nodes if node.pid() is None]
        try:
            for node in launched:
                node.launch()
            for node in launched:
                node.wait_ready(deadline)
            self._wait_every_node_sees_all(deadline)
        except BaseException:
            for node in launched:
                node.stop(timeout_s=10.0)
            raise

    def _wait_every_node_sees_all(self, deadline: float) -> None:
        """A node serves once it is unfenced, before its metadata lists the others; topics created
        then would get fewer replicas than the cluster has (`infra.kafka.topics.replication_for`)."""
        everyone, agreeing = {node.node_id for node in self.nodes}, 0
        # Several answers in a row, each from whichever node the client asks: one node's
        # metadata can lag the others' by a moment.
        while agreeing < 3 * len(self.nodes):
            agreeing = agreeing + 1 if kafka_node_ids(self.admin_access) == everyone else 0
            if time.monotonic() > deadline:
                raise LocalKafkaError(
                    f"{self!r}: the nodes did not all see each other before the start timeout"
                )
            time.sleep(0.1)

    def stop(self, timeout_s: float = 60.0) -> None:
        """SIGTERM to every node at once (a controlled shutdown needs the quorum that the others
        make up), then each waited for."""
        running = [(node, pid) for node in self.nodes if (pid := node.pid()) is not None]
        for _node, pid in running:
            _signal_group(pid, signal.SIGTERM)
        for node, _pid in running:
            node.stop(timeout_s)


_PROBE_THREAD = "kafka-probe"


class _NotFromProbes(logging.Filter):
    """A broker not up yet is what a probe asks about, not an error: aiokafka's "Unable connect"
    from a probe's thread would print a dozen lines at every start."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.threadName or "").startswith(_PROBE_THREAD)


for _name in ("aiokafka", "aiokafka.conn"):
    logging.getLogger(_name).addFilter(_NotFromProbes())


def kafka_node_ids(access: KafkaAccess, timeout_s: float = 3.0) -> set[int]:
    """The node ids the cluster reports; empty when it does not answer (yet) or refuses us.

    A KRaft broker lists itself only once it has caught up with the metadata log and been
    unfenced: ready to serve. Runs on its own thread and event loop, so synchronous start-up
    code and callers inside a running loop can both use it.
    """

    async def describe() -> set[int]:
        admin = AIOKafkaAdminClient(
            **access.client_options(), request_timeout_ms=int(timeout_s * 1000), client_id="shaobao-probe"
        )
        try:
            await asyncio.wait_for(admin.start(), timeout_s)
            cluster = await asyncio.wait_for(admin.describe_cluster(), timeout_s)
        finally:
            await admin.close()
        return {int(broker["node_id"]) for broker in cluster["brokers"]}

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix=_PROBE_THREAD) as pool:
        try:
            return pool.submit(lambda: asyncio.run(describe())).result()
        except Exception:  # not up, not ready, or not letting us in: "no nodes" to the caller
            return set()


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def _spawn_in_own_session(argv: list[str], log_file: Path) -> int:
    """Start `argv` detached from our session, stdout and stderr appended to `log_file`; return its pid.

    posix_spawn rather than subprocess.Popen: the broker outlives this process in daemon
    mode, and a Popen collected while its child still runs warns (an error under pytest).
    """
    log_fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        return os.posix_spawn(
            argv[0],
            argv,
            dict(os.environ),
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, log_fd, 1),
                (os.POSIX_SPAWN_DUP2, log_fd, 2),
            ],
            setsid=True,
        )
    finally:
        os.close(log_fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)  # the broker leads its own process group (setsid)
    except ProcessLookupError:
        pass


def partition_leader(access: KafkaAccess, topic: str, partition: int, timeout_s: float = 5.0) -> int:
    """The node id leading `topic`'s `partition` now (from a fresh metadata request)."""

    async def leader() -> int:
        admin = AIOKafkaAdminClient(**access.client_options(), request_timeout_ms=int(timeout_s * 1000))
        await asyncio.wait_for(admin.start(), timeout_s)
        try:
            described = await asyncio.wait_for(admin.describe_topics([topic]), timeout_s)
        finally:
            await admin.close()
        for found in described:
            for part in found["partitions"]:
                if part["partition"] == partition:
                    return int(part["leader"])
        raise LocalKafkaError(f"{topic}[{partition}] is not in the cluster's metadata")

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(leader())).result()
