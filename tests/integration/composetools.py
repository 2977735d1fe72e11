"""`docker-compose config` as Compose reads the file, with the passwords `make compose-env` writes."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PASSWORDS = {
    "SHAOBAO_KAFKA_ADMIN_PASSWORD": "kafka-admin-secret",
    "SHAOBAO_KAFKA_CONTROLLER_PASSWORD": "kafka-controller-secret",
    "SHAOBAO_POSTGRES_PASSWORD": "pg-secret",
    "GRAFANA_ADMIN_PASSWORD": "grafana-secret",
}


def compose_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("docker-compose")
    assert executable, "Debian's docker-compose is required (make test installs it)"
    clean = {k: v for k, v in os.environ.items() if k not in PASSWORDS}
    return subprocess.run(
        [executable, "-f", str(REPO / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        env={**clean, **env},
    )
