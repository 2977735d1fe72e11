"""The live stack a chaos run disturbs: an isolated pipeline (its own database and topic prefix)
with a jurisdiction of minute-long limits, and its processes, each `shaobao <cmd>` with its log
in the run's directory: worker 1 (always), workers 2 and 3 (joining and leaving as faults),
the control room, and the simulators (appeals at a fixed rate, the units working their
orders, the hotline's callbacks). A process that exits on its own is started again, as
`make run`'s supervisor does, and every exit is counted.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

from bench.chaos.balance import Member, described_group, partitions_per_member
from infra.kafka.topics import ensure_topics
from infra.local.kafka import LocalKafkaCluster
from infra.local.postgres import LocalPostgres
from infra.reference import load_jurisdiction
from shaobao.bootstrap import all_topic_specs
from shaobao.launch import Pipeline, free_port, isolated_env, spawn_cli, stop_process
from shaobao.supervisor import answers_200
from streams.kafka_access import KafkaAccess
from streams.names import TopicNames
from streams.settings import DEFAULT_JURISDICTION, Settings

READY_TIMEOUT_S = 180.0
RESTART_DELAY_S = 1.0  # `make run`'s first backoff
STOP_TIMEOUT_S = 30.0
POLL_S = 0.25
WORKERS = ("worker-1", "worker-2", "worker-3")
LOAD = ("simulate", "units", "callbacks")
# Limits of minutes (calendar minutes, `min`), so at-risk, overdue and supervised marks fall due
# throughout a run while the units simulator (signing in 5-30 s, completing after 1-4 min at
# speed 1) works some orders in time and not others.
LIMITS = """time_limits:
  normal:    {{sign: {sign}min, complete: {complete}min}}
  urgent:    {{sign: {sign}min, complete: {complete}min}}
  emergency: {{sign: {sign}min, on_scene: {{urban: {sign}min, rural: {sign}min}}, complete: {complete}min}}
  callback:  2wd
  rework:    3wd
  extension_max: 5wd
  whistle_report: {{urgent: {{urban: {sign}min, rural: {sign}min}}, normal: 1wd}}
  warn_at: 0.75
  escalate_after_overdue: {escalate}min
"""
LONG_LIMITS = LIMITS.format(sign=1, complete=2, escalate=0.5)
# The short run's load lasts 70 s: halved, so marks of its first tickets fall due within it.
SHORT_LIMITS = LIMITS.format(sign=0.5, complete=1, escalate=0.25)


def say(text: str) -> None:
    """A progress line: UTC time of day, then what happened."""
    print(f"chaos {datetime.now(UTC):%H:%M:%S.%f}"[:-3] + f"  {text}", flush=True)


def minute_limit_jurisdiction(directory: Path, limits: str) -> Path:
    """The sample county with its time limits replaced by `limits`, its lexicon beside it."""
    text = DEFAULT_JURISDICTION.read_text(encoding="utf-8")
    shortened = re.sub(r"^time_limits:\n(?:  .*\n)+", limits, text, count=1, flags=re.MULTILINE)
    if shortened == text:
        raise ValueError(f"{DEFAULT_JURISDICTION} has no time_limits block to replace")
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "chaos-county.yaml"
    target.write_text(shortened, encoding="utf-8")
    lexicon = DEFAULT_JURISDICTION.with_name(DEFAULT_JURISDICTION.stem + ".lexicon.yaml")
    target.with_name("chaos-county.lexicon.yaml").write_text(lexicon.read_text(encoding="utf-8"), "utf-8")
    return target


@dataclass(frozen=True)
class Services:
    """The broker(s) and database a run uses; the cluster and the server only when they are
    the run's own, to kill and restart."""

    kafka: KafkaAccess
    database_url: str
    brokers: int = 1
    cluster: LocalKafkaCluster | None = None
    postgres: LocalPostgres | None = None


@dataclass(frozen=True)
class Exit:
    process: str
    at: datetime
    code: int
    planned: bool  # a fault stopped it


@dataclass
class Process:
    """One `shaobao` process of the stack; `wanted`: the supervisor starts it again when it exits."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None
    wanted: bool = False
    planned_exit: bool = False
    restart_at: float | None = None
    _awaiting_start: list[asyncio.Event] = field(default_factory=list)

    def start(self) -> subprocess.Popen[bytes]:
        # From the event loop's thread only: the child gets SIGTERM when the thread that
        # started it ends (PR_SET_PDEATHSIG, `shaobao.launch`), and a worker thread ends soon.
        self.popen = spawn_cli(self.args, self.env, self.log)
        self.wanted, self.planned_exit, self.restart_at = True, False, None
        for started in self._awaiting_start:
            started.set()
        self._awaiting_start.clear()
        return self.popen

    def next_start(self) -> asyncio.Event:
        """Set when the process is next started (by the supervisor, after an exit)."""
        started = asyncio.Event()
        self._awaiting_start.append(started)
        return started

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen is not None and self.popen.poll() is None else None

    def send(self, sig: signal.Signals) -> int | None:
        """Signal its process group (it leads one); a kill or a stop is planned. Returns the pid."""
        pid = self.pid
        if pid is not None:
            self.planned_exit = self.planned_exit or sig in (signal.SIGKILL, signal.SIGTERM)
            os.killpg(pid, sig)
        return pid

    async def stop(self) -> int | None:
        """SIGTERM (SIGKILL after STOP_TIMEOUT_S), not started again; returns its exit code."""
        self.wanted, self.restart_at = False, None
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            self.planned_exit = True
            os.killpg(self.popen.pid, signal.SIGCONT)  # a paused process cannot act on SIGTERM
        await asyncio.to_thread(stop_process, self.popen, signal.SIGTERM, STOP_TIMEOUT_S)
        return self.popen.returncode


async def open_stack(services: Services, workdir: Path, rate: float, short: bool) -> Stack:
    """A fresh database and topic prefix, the topics and the migrations; then worker 1 and the
    control room, ready."""
    jurisdiction = minute_limit_jurisdiction(workdir, SHORT_LIMITS if short else LONG_LIMITS)
    env = await asyncio.to_thread(isolated_env, services.kafka, services.database_url, workdir, "chaos")
    env |= {
        "SHAOBAO_JURISDICTION": str(jurisdiction),
        "SHAOBAO_AUTO_MERGE": "1",  # as `make run`
        "SHAOBAO_ROOM_PASSWORD": secrets.token_urlsafe(9),
        "SHAOBAO_METRICS_PORT": "0",  # the simulators' /metrics would take `make run`'s ports
    }
    settings = Settings.from_env(env)
    logs = workdir / "logs"
    pipeline = Pipeline(settings, TopicNames(settings.topic_prefix), env, logs / "worker-1.log")
    await ensure_topics(services.kafka, all_topic_specs(settings, load_jurisdiction(jurisdiction)))
    stack = Stack(services, workdir, rate, pipeline)
    migrate = Process("migrate", ["migrate"], env, logs / "migrate.log")
    migrating = migrate.start()
    try:
        await asyncio.to_thread(migrating.wait)
    finally:
        code = await migrate.stop()
    if code != 0:
        raise RuntimeError(f"migrations failed ({code}); see {migrate.log}")
    stack.processes["worker-1"].start()
    stack.processes["web"].start()
    try:
        await stack.ready()
    except BaseException:
        await stack.stop_all()
        raise
    return stack


class Stack:
    """The processes of one run on `services`, its pipeline, and what the supervisor saw."""

    def __init__(self, services: Services, workdir: Path, rate: float, pipeline: Pipeline) -> None:
        self.services, self.workdir, self.rate, self.pipeline = services, workdir, rate, pipeline
        self.logs = pipeline.worker_log.parent
        self.exits: list[Exit] = []
        self.workers_max = 0
        self.processes: dict[str, Process] = {}
        self._admin: AIOKafkaAdminClient | None = None
        env = pipeline.env
        for name in WORKERS:
            port = env["SHAOBAO_WORKER_WEB_PORT"] if name == "worker-1" else str(free_port())
            worker_env = env | {
                "SHAOBAO_WORKER_WEB_PORT": port,
                "SHAOBAO_WORKER_DATADIR": str(workdir / name),
            }
            self._add(name, ["worker", "--loglevel", "info"], worker_env)
        self._add("web", ["web"], env)
        self._add("simulate", ["simulate", "--rate", f"{rate:g}", "--burst-every", "0"], env)
        self._add("units", ["units", "simulate"], env)
        self._add("callbacks", ["callbacks", "simulate"], env)

    @property
    def names(self) -> TopicNames:
        return self.pipeline.names

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.pipeline.settings.web_port}"

    def _add(self, name: str, args: list[str], env: dict[str, str]) -> None:
        self.processes[name] = Process(name, args, env, self.logs / f"{name}.log")

    async def ready(self) -> None:
        """Worker 1 has its partitions and tables (`/ready`) and the control room answers."""
        worker_port = self.processes["worker-1"].env["SHAOBAO_WORKER_WEB_PORT"]
        probes = (f"http://127.0.0.1:{worker_port}/ready", self.web_url + "/health")
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not all([await asyncio.to_thread(answers_200, url) for url in probes]):
            gone = [p.name for p in self.processes.values() if p.wanted and p.pid is None]
            if gone or time.monotonic() > deadline:
                raise RuntimeError(f"the stack did not become ready ({gone or 'timed out'}); see {self.logs}")
            await asyncio.sleep(0.5)

    def start_load(self) -> None:
        for name in LOAD:
            self.processes[name].start()

    async def stop_load(self) -> None:
        await asyncio.gather(*(self.processes[name].stop() for name in LOAD))

    async def stop_all(self) -> None:
        """The simulators first, then the control room, the workers last."""
        await self.stop_load()
        await self.processes["web"].stop()
        await asyncio.gather(*(self.processes[name].stop() for name in WORKERS))
        if self._admin is not None:
            await self._admin.close()
            self._admin = None

    def workers_wanted(self) -> int:
        return sum(self.processes[name].wanted for name in WORKERS)

    async def supervise(self) -> None:
        """Start again, after RESTART_DELAY_S, every wanted process that exited; until cancelled."""
        while True:
            now = time.monotonic()
            for process in self.processes.values():
                if not process.wanted or process.popen is None:
                    continue
                if process.restart_at is None and process.popen.poll() is not None:
                    code = process.popen.returncode
                    self.exits.append(Exit(process.name, datetime.now(UTC), code, process.planned_exit))
                    if not process.planned_exit:
                        say(
                            f"{process.name} exited on its own with {code}; starting it again ({process.log})"
                        )
                    process.restart_at = now + RESTART_DELAY_S
                elif process.restart_at is not None and now >= process.restart_at:
                    process.start()
            self.workers_max = max(self.workers_max, sum(self.processes[w].pid is not None for w in WORKERS))
            await asyncio.sleep(POLL_S)

    async def group_members(self) -> tuple[str, frozenset[str]]:
        """The worker group's state and member ids now; ("Unknown", ∅) when the broker does not say."""
        state, members = await self._group()
        return state, frozenset(member_id for member_id, _ in members)

    async def partition_balance(self) -> tuple[str, dict[str, int]]:
        """The worker group's state and, per member, how many intake partitions it holds."""
        state, members = await self._group()
        return state, partitions_per_member(members, self.names.intake)

    async def _group(self) -> tuple[str, list[Member]]:
        group_id = self.names.app_id
        try:
            if self._admin is None:
                self._admin = AIOKafkaAdminClient(
                    **self.services.kafka.client_options(), request_timeout_ms=5000
                )
                await self._admin.start()
            described = await asyncio.wait_for(self._admin.describe_consumer_groups([group_id]), 6.0)
        except Exception:  # noqa: BLE001 - a broker down or moving its coordinator: ask again later
            admin, self._admin = self._admin, None
            if admin is not None:
                await admin.close()
            return "Unknown", []
        return described_group(described, group_id)

    async def settled(
        self, members: int, unlike: frozenset[str] | None = None, timeout_s: float = 60.0
    ) -> float | None:
        """Seconds until the group is Stable with `members` members (and, given `unlike`, not the
        same members as then: a member replaced); None when it is not within `timeout_s`."""
        began = time.monotonic()
        while time.monotonic() - began < timeout_s:
            state, ids = await self.group_members()
            if state == "Stable" and len(ids) == members and (unlike is None or ids != unlike):
                return round(time.monotonic() - began, 2)
            await asyncio.sleep(POLL_S)
        return None

    async def intake_records(self) -> int:
        """Records on `appeals.intake` now: every appeal the simulators, bursts and poison wrote."""
        consumer = AIOKafkaConsumer(**self.services.kafka.client_options(), group_id=None)
        await consumer.start()
        try:
            partitions = range(self.pipeline.settings.ticket_partitions)
            ends = await consumer.end_offsets([TopicPartition(self.names.intake, p) for p in partitions])
            return sum(ends.values())
        finally:
            await consumer.stop()

    async def tickets_stored(self) -> int | None:
        try:
            db = await asyncpg.connect(self.pipeline.settings.database_url, timeout=3)
        except (OSError, asyncpg.PostgresError):
            return None  # PostgreSQL restarting
        try:
            return int(await db.fetchval("SELECT count(*) FROM tickets"))
        finally:
            await db.close()
