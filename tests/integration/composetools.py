"""`docker-compose config` as Compose reads the file, with the passwords `make compose-env` writes,
and the scripts of infra/compose run as a container would run them."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "infra" / "compose"
PASSWORDS = {
    "SHAOBAO_KAFKA_ADMIN_PASSWORD": "kafka-admin-secret",
    "SHAOBAO_KAFKA_CONTROLLER_PASSWORD": "kafka-controller-secret",
    "SHAOBAO_POSTGRES_PASSWORD": "pg-secret",
    "GRAFANA_ADMIN_PASSWORD": "grafana-secret",
}


def compose_config(env: dict[str, str], *options: str) -> subprocess.CompletedProcess[str]:
    """`docker-compose [options] config` with `env` over the caller's environment, whose
    passwords and profiles are left out so that only `env` sets them."""
    executable = shutil.which("docker-compose")
    assert executable, "Debian's docker-compose is required (make test installs it)"
    clean = {k: v for k, v in os.environ.items() if k not in PASSWORDS and k != "COMPOSE_PROFILES"}
    return subprocess.run(
        [executable, "-f", str(REPO / "docker-compose.yml"), *options, "config"],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        env={**clean, **env},
    )


def started(services: Mapping[str, Any], profiles: Collection[str]) -> dict[str, Any]:
    """The services `up` starts with these profiles: v1's `config` prints every one."""
    return {
        name: service
        for name, service in services.items()
        if not service.get("profiles") or set(service["profiles"]) & set(profiles)
    }


def environment_of(service: Mapping[str, Any]) -> dict[str, str]:
    environment = service["environment"]
    if isinstance(environment, list):
        return dict(item.split("=", 1) for item in environment)
    return {key: str(value) for key, value in environment.items()}


def run_script(script: str, env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """infra/compose/`script` under `sh` with exactly `env` (and a PATH), as its container runs it."""
    return subprocess.run(
        ["sh", str(SCRIPTS / script), *args],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
    )
