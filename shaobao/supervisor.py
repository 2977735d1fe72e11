"""`make run`: the local services, a worker, the control room and the simulator, stopped as one."""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from infra.kafka.principals import PrincipalStore, provision
from infra.local.services import ServiceEndpoints, default_state_dir, running_services
from infra.reference import load_jurisdiction
from shaobao.launch import run_coroutine, spawn_cli, stop_process
from streams.names import TopicNames
from streams.settings import Settings

READY_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 20.0
# A process that stops on its own is started again (every consumer is idempotent on event
# ids, so a restarted worker or simulator writes nothing twice), at most RESTARTS times in
# any RESTART_WINDOW_S, after a backoff that doubles from 1 s; past that the stack stops.
RESTARTS = 5
RESTART_WINDOW_S = 600.0


# The Kafka principal each process of the stack connects as (`streams.principals`).
PRINCIPAL_OF = {
    "worker": "worker",
    "web": "web",
    "simulate": "simulator",
    "units": "units-simulator",
    "callbacks": "callbacks-simulator",
    "migrate": "cli",
    "kb": "cli",
}
# The knowledge base `make run` starts with, when there is one: imported again at every start
# (an entry equal to the kept one is left as it is, so nothing is versioned twice).
SAMPLE_KB = Path(__file__).resolve().parents[1] / "data" / "kb" / "sample-county.yaml"


@dataclass
class Child:
    """One process of the stack (`shaobao <args>`), its environment, and when it was last started again."""

    args: list[str]
    log: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    restarts: list[float] = field(default_factory=list)

    @property
    def name(self) -> str:
        options = [i for i, a in enumerate(self.args) if a.startswith("-")]
        return " ".join(self.args[: options[0]] if options else self.args)

    def backoff_s(self, now: float) -> float | None:
        """How long to wait before starting it again; None when it stopped too often."""
        self.restarts = [t for t in self.restarts if now - t < RESTART_WINDOW_S]
        return None if len(self.restarts) >= RESTARTS else float(2 ** len(self.restarts))


def answers_200(url: str) -> bool:
    """True when `url` (a loopback health or ready endpoint) answers 200 within 3 s."""
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - loopback URL we built
            return bool(response.status == 200)
    except OSError:
        return False


def _stop(children: list[Child]) -> None:
    """The simulator first, the worker last, so nothing fed in is left half-processed."""
    for child in reversed(children):
        stop_process(child.process, timeout_s=STOP_TIMEOUT_S)


def _restart(child: Child, stopping: Callable[[], bool]) -> bool:
    """Start a child that stopped on its own again, after its backoff; False: give up."""
    wait_s = child.backoff_s(time.monotonic())
    if wait_s is None:
        return False
    print(
        f"{child.name} stopped (exit code {child.process.returncode}); starting it again in"
        f" {wait_s:.0f} s ({len(child.restarts) + 1}/{RESTARTS} in {RESTART_WINDOW_S / 60:.0f} min);"
        f" log: {child.log}",
        flush=True,
    )
    until = time.monotonic() + wait_s
    while time.monotonic() < until and not stopping():
        time.sleep(0.1)
    if not stopping():
        child.restarts.append(time.monotonic())
        child.process = spawn_cli(child.args, child.env, child.log)
    return True


def without_password(url: str) -> str:
    """A connection URL fit for a terminal: `postgresql://user:***@host/db`."""
    return re.sub(r"^(\w+://[^:@/]+):[^@/]*@", r"\1:***@", url)


def kafka_envs(endpoints: ServiceEndpoints, settings: Settings, state_dir: Path) -> dict[str, dict[str, str]]:
    """Each principal's Kafka variables; on a secured cluster, its users and ACLs are provisioned first.

    On a plaintext cluster (one named in KAFKA_BOOTSTRAP_SERVERS without SASL) every process
    shares the one access the environment gives.
    """
    access = endpoints.kafka
    if not access.uses_sasl:
        return {principal: access.as_env() for principal in PRINCIPAL_OF.values()}
    store = PrincipalStore(state_dir / "kafka")
    units = load_jurisdiction(settings.jurisdiction_file).unit_codes
    done = run_coroutine(provision(access, TopicNames(settings.topic_prefix), units, store))
    print(
        f"kafka principals: {len(done.principals)} with their ACLs ({done.acls_created} new);"
        f" client files in {done.clients_dir}",
        flush=True,
    )
    passwords = store.passwords()
    return {p: access.as_principal(p, passwords[p]).as_env() for p in PRINCIPAL_OF.values()}


def _import_sample_kb(start: Callable[[list[str], str], None], children: list[Child], logs: Path) -> None:
    """`shaobao kb import` of the sample knowledge base; a refused entry is reported, not fatal."""
    if not SAMPLE_KB.is_file():
        return
    start(["kb", "import", str(SAMPLE_KB), "--by", "make run"], "kb-import.log")
    code = children.pop().process.wait()
    log = logs / "kb-import.log"
    said = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    # The log is appended to: with nothing refused, its last line is this import's summary.
    outcome = said[-1] if said and code == 0 else f"not all imported (exit code {code}); see {log}"
    print(f"knowledge base {SAMPLE_KB.name}: {outcome}", flush=True)


def run_stack(settings: Settings, rate: float, simulate: bool) -> int:
    state_dir = default_state_dir()
    stopping = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    with running_services(state_dir) as endpoints:
        kafka = kafka_envs(endpoints, settings, state_dir)
        stack = _Stack(_stack_env(endpoints, settings), kafka, state_dir / "logs", lambda: stopping)
        try:
            return _run(stack, settings, endpoints, rate, simulate)
        finally:
            _stop(stack.children)


def _stack_env(endpoints: ServiceEndpoints, settings: Settings) -> dict[str, str]:
    """The environment every process of the stack shares (its Kafka variables come apart)."""
    return {
        **{name: value for name, value in os.environ.items() if not name.startswith("KAFKA_")},
        "DATABASE_URL": endpoints.database_url,
        "PYTHONUNBUFFERED": "1",
        "SHAOBAO_AUTO_MERGE": os.environ.get("SHAOBAO_AUTO_MERGE", "1"),
        # The control room's password: the one configured, or a new one for this run.
        "SHAOBAO_ROOM_PASSWORD": settings.room_password or secrets.token_urlsafe(9),
    }


@dataclass
class _Stack:
    """The processes of one `make run`, each started with its principal's Kafka variables."""

    env: dict[str, str]
    kafka: dict[str, dict[str, str]]
    logs: Path
    stopping: Callable[[], bool]
    children: list[Child] = field(default_factory=list)

    def start(self, args: list[str], log: str) -> None:
        child_env = self.env | self.kafka[PRINCIPAL_OF[args[0]]]
        self.children.append(
            Child(args, self.logs / log, child_env, spawn_cli(args, child_env, self.logs / log))
        )

    def migrated(self) -> bool:
        """`shaobao migrate`, waited for; False (and said) when it failed."""
        self.start(["migrate"], "migrate.log")
        if self.children[-1].process.wait() != 0:
            print(f"migrations failed: see {self.logs / 'migrate.log'}", flush=True)
            return False
        self.children.clear()
        return True

    def ready(self, url: str, worker_ready: str) -> bool:
        """Wait until the control room answers and the worker is ready; False (and said) when a
        child stopped, Ctrl-C came or READY_TIMEOUT_S passed first."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        # Ready means dispatching: the control room answers and the worker has its partitions
        # and its tables recovered, so the first appeal is not kept waiting on a join.
        while not (answers_200(url + "/health") and answers_200(worker_ready)):
            if (
                self.stopping()
                or time.monotonic() > deadline
                or any(c.process.poll() is not None for c in self.children)
            ):
                print(f"the stack did not become ready; logs are in {self.logs}", flush=True)
                return False
            time.sleep(0.5)
        return True

    def supervise(self) -> int:
        """Start again what stops on its own until Ctrl-C (0), or until one keeps stopping (1)."""
        while not self.stopping():
            for child in self.children:
                if child.process.poll() is not None and not _restart(child, self.stopping):
                    print(f"{child.name} keeps stopping; stopping everything. Logs: {self.logs}", flush=True)
                    return 1
            time.sleep(0.5)
        print("stopping…", flush=True)
        return 0


def _run(stack: _Stack, settings: Settings, endpoints: ServiceEndpoints, rate: float, simulate: bool) -> int:
    """Migrate, import the sample knowledge base, start the worker and the control room, then
    the simulators once they are ready; supervise until Ctrl-C."""
    if not stack.migrated():
        return 1
    _import_sample_kb(stack.start, stack.children, stack.logs)
    stack.start(["worker", "--loglevel", "info"], "worker.log")
    stack.start(["web"], "web.log")
    url = f"http://127.0.0.1:{settings.web_port}"
    if not stack.ready(url, f"http://127.0.0.1:{settings.worker_web_port}/ready"):
        return 1
    if simulate:
        stack.start(["simulate", "--rate", str(rate)], "simulator.log")
        # Departments work their orders and the hotline calls back, so tickets live and close.
        stack.start(["units", "simulate"], "unit-simulator.log")
        stack.start(["callbacks", "simulate"], "callback-simulator.log")
    _announce(settings, endpoints, stack, url)
    return stack.supervise()


def _announce(settings: Settings, endpoints: ServiceEndpoints, stack: _Stack, url: str) -> None:
    """Where the stack answers, how to log in, and where its metrics and logs are."""
    print(f"control room: {url}/   health: {url}/health", flush=True)
    print(
        f"operator desk (坐席): {url}/desk — the control room's login, or an operator token from"
        " `shaobao tokens issue --role operator --name NAME`",
        flush=True,
    )
    print(
        f"metrics: http://127.0.0.1:{settings.worker_web_port}/metrics (worker), {url}/metrics,"
        " http://127.0.0.1:6067/metrics (simulator); `shaobao top` in another terminal",
        flush=True,
    )
    print(f"control room password: {stack.env['SHAOBAO_ROOM_PASSWORD']}", flush=True)
    print(f"kafka: {endpoints.kafka}   postgres: {endpoints.database_url}", flush=True)
    print(f"logs: {stack.logs}", flush=True)
    print("Shaobao is ready. Press Ctrl-C to stop.", flush=True)
