"""`make run`: the local services, a worker, the control room and the simulator, stopped as one."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
import urllib.request
from pathlib import Path
from types import FrameType

from infra.local.services import running_services
from shaobao.launch import spawn_cli, stop_process
from streams.settings import REPO_ROOT, Settings

READY_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 20.0


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - loopback URL we built
            return bool(response.status == 200)
    except OSError:
        return False


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    """The simulator first, the worker last, so nothing fed in is left half-processed."""
    for child in reversed(children):
        stop_process(child, timeout_s=STOP_TIMEOUT_S)


def run_stack(settings: Settings, rate: float, simulate: bool) -> int:
    state_dir = Path(os.environ.get("SHAOBAO_STATE_DIR", REPO_ROOT / ".state"))
    logs = state_dir / "logs"
    stopping = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    with running_services(state_dir) as endpoints:
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": endpoints.kafka_bootstrap_servers,
            "DATABASE_URL": endpoints.database_url,
            "PYTHONUNBUFFERED": "1",
            "SHAOBAO_AUTO_MERGE": os.environ.get("SHAOBAO_AUTO_MERGE", "1"),
            # The control room's password: the one configured, or a new one for this run.
            "SHAOBAO_ROOM_PASSWORD": settings.room_password or secrets.token_urlsafe(9),
        }
        children: list[subprocess.Popen[bytes]] = []
        try:
            children.append(spawn_cli(["migrate"], env, logs / "migrate.log"))
            if children[-1].wait() != 0:
                print(f"migrations failed: see {logs / 'migrate.log'}", flush=True)
                return 1
            children.clear()
            children.append(spawn_cli(["worker", "--loglevel", "info"], env, logs / "worker.log"))
            children.append(spawn_cli(["web"], env, logs / "web.log"))
            url = f"http://127.0.0.1:{settings.web_port}"
            deadline = time.monotonic() + READY_TIMEOUT_S
            while not _healthy(url + "/health"):
                if stopping or time.monotonic() > deadline or any(c.poll() is not None for c in children):
                    print(f"the stack did not become ready; logs are in {logs}", flush=True)
                    return 1
                time.sleep(0.5)
            if simulate:
                children.append(spawn_cli(["simulate", "--rate", str(rate)], env, logs / "simulator.log"))
                # Departments work their orders and the hotline calls back, so tickets live and close.
                children.append(spawn_cli(["units", "simulate"], env, logs / "unit-simulator.log"))
                children.append(spawn_cli(["callbacks", "simulate"], env, logs / "callback-simulator.log"))
            print(f"control room: {url}/   health: {url}/health", flush=True)
            print(
                f"metrics: http://127.0.0.1:{settings.worker_web_port}/metrics (worker), {url}/metrics,"
                " http://127.0.0.1:6067/metrics (simulator); `shaobao top` in another terminal",
                flush=True,
            )
            print(f"control room password: {env['SHAOBAO_ROOM_PASSWORD']}", flush=True)
            print(
                f"kafka: {endpoints.kafka_bootstrap_servers}   postgres: {endpoints.database_url}", flush=True
            )
            print(f"logs: {logs}", flush=True)
            print("Shaobao is ready. Press Ctrl-C to stop.", flush=True)
            while not stopping:
                if any(c.poll() is not None for c in children):
                    print(f"a process stopped unexpectedly; logs are in {logs}", flush=True)
                    return 1
                time.sleep(0.5)
            print("stopping…", flush=True)
            return 0
        finally:
            _stop(children)
