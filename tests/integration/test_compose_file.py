"""docker-compose.yml, for users with Docker: valid as Compose reads it (no engine runs here)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


def test_docker_compose_config_accepts_the_file_and_names_every_service() -> None:
    executable = shutil.which("docker-compose")
    assert executable, "Debian's docker-compose is required (make test installs it)"
    result = subprocess.run(
        [executable, "-f", str(REPO / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert {"kafka", "postgres", "worker", "web", "simulator"} <= set(services)
    assert services["kafka"]["image"] == "apache/kafka:3.9.1"
    assert services["postgres"]["image"].startswith("postgres:16")


@pytest.mark.parametrize("service", ["worker", "web", "simulator"])
def test_compose_points_the_project_at_the_compose_kafka_and_postgres(service: str) -> None:
    services = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))["services"]
    environment = services[service]["environment"]
    env = dict(item.split("=", 1) for item in environment) if isinstance(environment, list) else environment
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert env["DATABASE_URL"].startswith("postgresql://") and "@postgres:5432/" in env["DATABASE_URL"]
