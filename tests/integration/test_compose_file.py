"""docker-compose.yml, for users with Docker: valid as Compose reads it (no engine runs here), one
broker by default and three with the `cluster` profile, each configured as its script says."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.kafka.principals import PrincipalStore
from streams.kafka_access import KafkaAccess
from tests.integration.composetools import (
    PASSWORDS,
    SCRIPTS,
    compose_config,
    environment_of,
    run_script,
    started,
)

PRINCIPAL_OF = {"worker": "worker", "web": "web", "simulator": "simulator"}
CLUSTER = {**PASSWORDS, "COMPOSE_PROFILES": "cluster"}
THREE_VOTERS = "1@kafka:9093,2@kafka-2:9093,3@kafka-3:9093"
THREE_BOOTSTRAP = "kafka:9092,kafka-2:9092,kafka-3:9092"

# What kafka-start.sh wrote before the cluster profile existed, byte for byte.
SINGLE_NODE = """\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@kafka:9093
listeners=CLIENT://:9092,CONTROLLER://:9093,EXTERNAL://:9094
advertised.listeners=CLIENT://kafka:9092,EXTERNAL://127.0.0.1:9094
controller.listener.names=CONTROLLER
inter.broker.listener.name=CLIENT
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,CLIENT:SASL_PLAINTEXT,EXTERNAL:SASL_PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule \
required username="controller" password="kafka-controller-secret" user_controller="kafka-controller-secret";
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule \
required username="admin" password="kafka-admin-secret";
listener.name.external.scram-sha-512.sasl.jaas.config=\
org.apache.kafka.common.security.scram.ScramLoginModule required;
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin;User:controller
allow.everyone.if.no.acl.found=false
log.dirs=/var/lib/kafka/data
num.partitions=6
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
"""


def _services(env: dict[str, str], *options: str) -> dict[str, Any]:
    result = compose_config(env, *options)
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = yaml.safe_load(result.stdout)["services"]
    return found


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    return started(_services(PASSWORDS), ())


@pytest.fixture(scope="module")
def cluster_services() -> dict[str, Any]:
    return started(_services(CLUSTER), {"cluster"})


def brokers_of(services: dict[str, Any]) -> dict[str, Any]:
    return {name: s for name, s in services.items() if s.get("image") == "apache/kafka:3.9.1"}


def properties_of(broker: dict[str, Any]) -> str:
    """The server.properties kafka-start.sh writes in this broker's container."""
    result = run_script("kafka-start.sh", {**environment_of(broker), "KAFKA_START_DRY_RUN": "1"})
    assert result.returncode == 0, result.stderr
    return result.stdout


def parsed(properties: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in properties.splitlines())


def bootstrap_of(principals: dict[str, Any]) -> str:
    """KAFKA_BOOTSTRAP_SERVERS as kafka-principals' entrypoint hands it to `shaobao kafka provision`."""
    assert principals["entrypoint"] == ["/bin/sh", "/opt/shaobao/kafka-bootstrap.sh"]
    result = run_script(
        "kafka-bootstrap.sh", environment_of(principals), "printenv", "KAFKA_BOOTSTRAP_SERVERS"
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


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
    properties = parsed(properties_of(kafka))
    assert properties["listener.security.protocol.map"] == (
        "CONTROLLER:SASL_PLAINTEXT,CLIENT:SASL_PLAINTEXT,EXTERNAL:SASL_PLAINTEXT"
    )
    assert properties["allow.everyone.if.no.acl.found"] == "false"
    for script in ("kafka-start.sh", "kafka-health.sh", "kafka-bootstrap.sh", "kafka-topology.sh"):
        assert subprocess.run(["sh", "-n", str(SCRIPTS / script)], check=False).returncode == 0, script


def test_by_default_compose_runs_the_one_broker_it_always_has(services: dict[str, Any]) -> None:
    assert list(brokers_of(services)) == ["kafka"]
    assert properties_of(services["kafka"]) == SINGLE_NODE
    assert services["kafka"]["ports"] == ["127.0.0.1:9094:9094/tcp"]


def test_the_cluster_profile_runs_three_brokers_as_one_quorum(cluster_services: dict[str, Any]) -> None:
    brokers = brokers_of(cluster_services)
    assert sorted(brokers) == ["kafka", "kafka-2", "kafka-3"]
    single = parsed(SINGLE_NODE)
    for node, (name, port) in enumerate([("kafka", 9094), ("kafka-2", 9095), ("kafka-3", 9096)], start=1):
        assert parsed(properties_of(brokers[name])) == single | {
            "node.id": str(node),
            "controller.quorum.voters": THREE_VOTERS,
            "listeners": f"CLIENT://:9092,CONTROLLER://:9093,EXTERNAL://:{port}",
            "advertised.listeners": f"CLIENT://{name}:9092,EXTERNAL://127.0.0.1:{port}",
            "offsets.topic.replication.factor": "3",
            "transaction.state.log.replication.factor": "3",
            "transaction.state.log.min.isr": "2",
            "default.replication.factor": "3",
            "min.insync.replicas": "2",
        }, name
        assert brokers[name]["ports"] == [f"127.0.0.1:{port}:{port}/tcp"]


def test_each_broker_keeps_its_data_in_a_volume_of_its_own(cluster_services: dict[str, Any]) -> None:
    brokers = brokers_of(cluster_services)
    data = {
        name: [v for v in b["volumes"] if v.endswith(":/var/lib/kafka/data:rw")]
        for name, b in brokers.items()
    }
    assert data == {
        "kafka": ["kafka-data:/var/lib/kafka/data:rw"],
        "kafka-2": ["kafka-2-data:/var/lib/kafka/data:rw"],
        "kafka-3": ["kafka-3-data:/var/lib/kafka/data:rw"],
    }
    healthchecks = [b["healthcheck"] for b in brokers.values()]
    assert healthchecks == [healthchecks[0]] * 3
    assert healthchecks[0]["test"] == ["CMD-SHELL", "/bin/sh /opt/shaobao/kafka-health.sh"]
    environments = [environment_of(b) for b in brokers.values()]
    shared = ("CLUSTER_ID", "KAFKA_ADMIN_PASSWORD", "KAFKA_CONTROLLER_PASSWORD", "COMPOSE_PROFILES")
    assert {tuple(env[k] for k in shared) for env in environments} == {
        ("c2hhb2Jhby1jb21wb3NlMQ", "kafka-admin-secret", "kafka-controller-secret", "cluster")
    }


def test_principals_are_provisioned_as_admin_before_the_processes_start(services: dict[str, Any]) -> None:
    init = services["kafka-principals"]
    assert init["command"] == ["shaobao", "kafka", "provision"]
    env = environment_of(init)
    assert (bootstrap_of(init), env["KAFKA_SASL_USERNAME"], env["KAFKA_SASL_PASSWORD"]) == (
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


def test_in_the_cluster_every_process_bootstraps_from_all_three_brokers(
    cluster_services: dict[str, Any], tmp_path: Path
) -> None:
    init = cluster_services["kafka-principals"]
    assert bootstrap_of(init) == THREE_BOOTSTRAP
    # Provisioning writes the admin's brokers into each process's client file.
    admin = KafkaAccess.from_env({**environment_of(init), "KAFKA_BOOTSTRAP_SERVERS": bootstrap_of(init)})
    store = PrincipalStore(tmp_path)
    for service, principal in PRINCIPAL_OF.items():
        client_file = Path(environment_of(cluster_services[service])["KAFKA_CLIENT_FILE"])
        assert client_file.name == store.write_client(admin, principal, "pw").name
        written = store.client_file(principal).read_text(encoding="utf-8")
        assert KafkaAccess.from_properties(written).bootstrap_servers == THREE_BOOTSTRAP
        assert cluster_services[service]["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_profile_given_as_an_option_stops_the_extra_brokers_with_the_reason() -> None:
    # `--profile cluster` starts kafka-2 and kafka-3 but leaves COMPOSE_PROFILES unset.
    brokers = brokers_of(started(_services(PASSWORDS, "--profile", "cluster"), {"cluster"}))
    assert sorted(brokers) == ["kafka", "kafka-2", "kafka-3"]
    assert properties_of(brokers["kafka"]) == SINGLE_NODE
    for name in ("kafka-2", "kafka-3"):
        result = run_script("kafka-start.sh", {**environment_of(brokers[name]), "KAFKA_START_DRY_RUN": "1"})
        assert (result.returncode, result.stdout) == (64, ""), name
        assert "is not a voter of 1@kafka:9093" in result.stderr
        assert "COMPOSE_PROFILES=cluster, not --profile cluster" in result.stderr


def fake_kafka(root: Path, answering: Sequence[int], failing: Sequence[int] = ()) -> Path:
    """A container root whose Kafka scripts record their arguments and pretend: format writes
    meta.properties, the server exits at once, the API-versions tool prints one line per
    broker (as Kafka 3.9.1 does) for `answering` and an error line for `failing`."""
    bin_dir = root / "opt" / "kafka" / "bin"
    for directory in (bin_dir, root / "tmp", root / "var" / "lib" / "kafka" / "data"):
        directory.mkdir(parents=True, exist_ok=True)
    answers = [f"kafka-{n}:9092 (id: {n} rack: null) -> (\n\tProduce(0): 0 to 11,\n)" for n in answering]
    answers += [f"kafka-{n}:9092 (id: {n} rack: null) -> ERROR: DisconnectException" for n in failing]
    record = f'echo "$@" >> {root}/calls'
    scripts = {
        "kafka-storage.sh": f"{record}\ntouch {root}/var/lib/kafka/data/meta.properties",
        "kafka-server-start.sh": f'echo start "$@" >> {root}/calls',
        "kafka-broker-api-versions.sh": f"{record}\ncat <<'OUT'\n" + "\n".join(answers) + "\nOUT",
    }
    for name, body in scripts.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    return root


def node_env(root: Path, profiles: str, node: int = 1) -> dict[str, str]:
    host = "kafka" if node == 1 else f"kafka-{node}"
    return {
        "SHAOBAO_COMPOSE_ROOT": str(root),
        "COMPOSE_PROFILES": profiles,
        "KAFKA_NODE_ID": str(node),
        "KAFKA_ADVERTISED_HOST": host,
        "KAFKA_EXTERNAL_PORT": str(9093 + node),
        "KAFKA_ADMIN_PASSWORD": "kafka-admin-secret",
        "KAFKA_CONTROLLER_PASSWORD": "kafka-controller-secret",
        "CLUSTER_ID": "c2hhb2Jhby1jb21wb3NlMQ",
    }


@pytest.mark.parametrize(
    ("profiles", "answering", "failing", "healthy"),
    [
        ("", [1], [], True),
        ("", [], [1], False),
        ("cluster", [1, 2, 3], [], True),
        ("cluster", [1, 2], [], False),
        ("cluster", [1, 2], [3], False),
    ],
)
def test_a_broker_is_healthy_once_every_broker_of_its_quorum_answers(
    tmp_path: Path, profiles: str, answering: list[int], failing: list[int], healthy: bool
) -> None:
    root = fake_kafka(tmp_path, answering, failing)
    result = run_script("kafka-health.sh", node_env(root, profiles, node=2 if profiles else 1))
    assert (result.returncode == 0) is healthy, result.stderr
    host = "kafka-2" if profiles else "kafka"
    assert (root / "calls").read_text() == (
        f"--bootstrap-server {host}:9092 --command-config {root}/tmp/admin.properties\n"
    )


def test_a_node_formats_its_volume_once_then_starts_on_it(tmp_path: Path) -> None:
    root = fake_kafka(tmp_path, [])
    for _ in range(2):
        result = run_script("kafka-start.sh", node_env(root, "cluster", node=3))
        assert result.returncode == 0, result.stderr
    config = f"{root}/tmp/server.properties"
    scram = "SCRAM-SHA-512=[name=admin,password=kafka-admin-secret]"
    assert (root / "calls").read_text().splitlines() == [
        f"format -t c2hhb2Jhby1jb21wb3NlMQ -c {config} --add-scram {scram}",
        f"start {config}",
        f"start {config}",
    ]
    assert (root / "var/lib/kafka/data/shaobao-quorum").read_text() == THREE_VOTERS + "\n"
    written = (root / "tmp" / "server.properties").read_text()
    assert parsed(written)["node.id"] == "3" and parsed(written)["controller.quorum.voters"] == THREE_VOTERS
    assert parsed(written)["log.dirs"] == f"{root}/var/lib/kafka/data"
    admin = (root / "tmp" / "admin.properties").read_text()
    assert 'username="admin" password="kafka-admin-secret";' in admin
    for secret in ("server.properties", "admin.properties"):
        assert stat.S_IMODE(os.stat(root / "tmp" / secret).st_mode) == 0o600, secret


@pytest.mark.parametrize(
    ("formatted_for", "profiles", "starts"),
    [
        (None, "", True),  # a volume from before the quorum file: single-node
        (None, "cluster", False),
        ("1@kafka:9093", "cluster", False),
        (THREE_VOTERS, "", False),
        (THREE_VOTERS, "cluster", True),
    ],
)
def test_a_volume_serves_only_the_quorum_it_was_formatted_for(
    tmp_path: Path, formatted_for: str | None, profiles: str, starts: bool
) -> None:
    root = fake_kafka(tmp_path, [])
    data = root / "var" / "lib" / "kafka" / "data"
    (data / "meta.properties").write_text("node.id=1\n")
    if formatted_for is not None:
        (data / "shaobao-quorum").write_text(formatted_for + "\n")
    result = run_script("kafka-start.sh", node_env(root, profiles))
    calls = (root / "calls").read_text().splitlines() if (root / "calls").exists() else []
    if starts:
        assert (result.returncode, calls) == (0, [f"start {root}/tmp/server.properties"]), result.stderr
    else:
        assert (result.returncode, calls) == (65, [])
        assert "switching between one and three brokers takes fresh volumes" in result.stderr
