"""docker-compose.yml, for users with Docker: valid as Compose reads it (no engine runs here)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.composetools import PASSWORDS, compose_config

REPO = Path(__file__).resolve().parents[2]
PRINCIPAL_OF = {"worker": "worker", "web": "web", "simulator": "simulator"}


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    result = compose_config(PASSWORDS)
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = yaml.safe_load(result.stdout)["services"]
    return found


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    environment = service["environment"]
    if isinstance(environment, list):
        return dict(item.split("=", 1) for item in environment)
    return {key: str(value) for key, value in environment.items()}


def test_docker_compose_config_accepts_the_file_and_names_every_service(services: dict[str, Any]) -> None:
    assert {"kafka", "kafka-principals", "postgres", "worker", "web", "simulator"} <= set(services)
    assert services["kafka"]["image"] == "apache/kafka:3.9.1"
    assert services["postgres"]["image"].startswith("postgres:16")


def test_compose_ships_no_password_and_says_how_to_make_them() -> None:
    for missing in PASSWORDS:
        result = compose_config({k: v for k, v in PASSWORDS.items() if k != missing})
        assert result.returncode != 0, missing
        assert "run make compose-env" in result.stderr, (missing, result.stderr)


def test_the_broker_takes_only_scram_clients_with_the_passwords_given(services: dict[str, Any]) -> None:
    kafka = services["kafka"]
    env = environment_of(kafka)
    assert (env["KAFKA_ADMIN_PASSWORD"], env["KAFKA_CONTROLLER_PASSWORD"]) == (
        "kafka-admin-secret",
        "kafka-controller-secret",
    )
    assert kafka["entrypoint"] == ["/bin/sh", "/opt/shaobao/kafka-start.sh"]
    script = (REPO / "infra" / "compose" / "kafka-start.sh").read_text()
    assert (
        "listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,CLIENT:SASL_PLAINTEXT,EXTERNAL:SASL_PLAINTEXT"
        in script
    )
    assert "allow.everyone.if.no.acl.found=false" in script
    assert "PLAINTEXT://" not in script
    assert (
        subprocess.run(
            ["sh", "-n", str(REPO / "infra" / "compose" / "kafka-start.sh")], check=False
        ).returncode
        == 0
    )


def test_principals_are_provisioned_as_admin_before_the_processes_start(services: dict[str, Any]) -> None:
    init = services["kafka-principals"]
    assert init["command"] == ["shaobao", "kafka", "provision"]
    env = environment_of(init)
    assert (env["KAFKA_BOOTSTRAP_SERVERS"], env["KAFKA_SASL_USERNAME"], env["KAFKA_SASL_PASSWORD"]) == (
        "kafka:9092",
        "admin",
        "kafka-admin-secret",
    )
    assert init["restart"] == "no"


@pytest.mark.parametrize("service", sorted(PRINCIPAL_OF))
def test_each_process_connects_as_its_own_principal(services: dict[str, Any], service: str) -> None:
    env = environment_of(services[service])
    assert (
        env["KAFKA_CLIENT_FILE"] == f"/var/lib/shaobao/state/kafka/clients/{PRINCIPAL_OF[service]}.properties"
    )
    assert "KAFKA_SASL_PASSWORD" not in env and "KAFKA_BOOTSTRAP_SERVERS" not in env
    assert env["DATABASE_URL"] == "postgresql://shaobao:pg-secret@postgres:5432/shaobao"
    assert (
        services[service]["depends_on"]["kafka-principals"]["condition"] == "service_completed_successfully"
    )
