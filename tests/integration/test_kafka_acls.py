"""The broker enforces each principal's identity, proved with kcat (librdkafka) and the
client files provisioning writes: what `make run` gives each unit's system."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from infra.kafka.principals import PrincipalStore, provision
from infra.kafka.topics import TopicSpec, ensure_topics
from infra.local.services import ServiceEndpoints
from shaobao.launch import ISSUED_TOPIC_PREFIXES, run_coroutine
from streams.names import TopicNames
from tests.integration.kafkatools import produce, read_all

REPO = Path(__file__).resolve().parents[2]
UNITS = ["cgj", "zjj"]
DENIED_TOPIC = "Topic authorization failed"


@dataclass(frozen=True)
class Acls:
    names: TopicNames
    store: PrincipalStore
    endpoints: ServiceEndpoints
    state_dir: Path

    def file(self, principal: str) -> str:
        return str(self.store.client_file(principal))


def kcat(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["kcat", *args], input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


def produce_as(acls: Acls, principal: str, topic: str, line: str) -> subprocess.CompletedProcess[str]:
    return kcat("-F", acls.file(principal), "-P", "-t", topic, "-K", "|", stdin=line + "\n")


def consume_as(acls: Acls, principal: str, topic: str) -> subprocess.CompletedProcess[str]:
    return kcat("-F", acls.file(principal), "-C", "-t", topic, "-e", "-f", "%k|%s\n")


@pytest.fixture(scope="module")
def acls(endpoints: ServiceEndpoints, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Acls]:
    if not endpoints.kafka.uses_sasl:
        pytest.skip(f"the session's Kafka ({endpoints.kafka.security_protocol}) has no SASL users or ACLs")
    names = TopicNames(f"acl{uuid.uuid4().hex[:8]}.")
    ISSUED_TOPIC_PREFIXES.add(names.prefix)
    topics = [
        names.intake,
        names.events,
        *(t for u in UNITS for t in (names.unit_orders(u), names.unit_actions(u))),
    ]
    run_coroutine(ensure_topics(endpoints.kafka, [TopicSpec(topic, 1, {}) for topic in topics]))
    state_dir = tmp_path_factory.mktemp("acl-state")
    store = PrincipalStore(state_dir / "kafka")
    done = run_coroutine(provision(endpoints.kafka, names, UNITS, store))
    assert done.principals[-2:] == ("unit-cgj", "unit-zjj")
    yield Acls(names, store, endpoints, state_dir)


def test_client_files_are_private_and_name_the_principal(acls: Acls) -> None:
    path = Path(acls.file("unit-zjj"))
    assert path.stat().st_mode & 0o777 == 0o600
    lines = path.read_text().splitlines()
    assert lines[1:4] == [
        "security.protocol=SASL_PLAINTEXT",
        "sasl.mechanisms=SCRAM-SHA-512",
        "sasl.username=unit-zjj",
    ]
    assert acls.store.passwords_file.stat().st_mode & 0o777 == 0o600


def test_an_anonymous_client_cannot_produce(acls: Acls) -> None:
    bootstrap = acls.endpoints.kafka.bootstrap_servers
    refused = kcat("-b", bootstrap, "-P", "-t", acls.names.intake, stdin="x\n")
    assert refused.returncode != 0
    assert "SASL authentication" in refused.stderr, refused.stderr


def test_a_unit_cannot_write_another_units_actions_nor_read_the_log_or_its_orders(acls: Acls) -> None:
    names = acls.names
    forged = produce_as(acls, "unit-zjj", names.unit_actions("cgj"), 'T-1|{"action":"sign"}')
    assert forged.returncode != 0 and DENIED_TOPIC in forged.stderr, forged.stderr
    for topic in (names.events, names.unit_orders("cgj")):
        peek = consume_as(acls, "unit-zjj", topic)
        assert peek.returncode != 0 and DENIED_TOPIC in peek.stderr, (topic, peek.stderr)
    # Nor may the web app's principal read a unit's orders, or the simulator the ticket log.
    assert DENIED_TOPIC in consume_as(acls, "web", names.unit_orders("zjj")).stderr
    assert DENIED_TOPIC in consume_as(acls, "simulator", names.events).stderr


async def test_a_unit_writes_its_own_actions_and_reads_its_own_orders(acls: Acls) -> None:
    names, admin = acls.names, acls.endpoints.kafka
    action = json.dumps({"action_id": "a-1", "ticket_id": "T-1", "action": "sign"})
    written = produce_as(acls, "unit-cgj", names.unit_actions("cgj"), f"T-1|{action}")
    assert written.returncode == 0, written.stderr
    assert await read_all(admin, names.unit_actions("cgj"), idle_s=0.2) == [(b"T-1", action.encode())]

    await produce(admin, names.unit_orders("zjj"), [(b"T-2", b'{"order":"zjj"}')])
    mine = consume_as(acls, "unit-zjj", names.unit_orders("zjj"))
    assert (mine.returncode, mine.stdout) == (0, 'T-2|{"order":"zjj"}\n'), mine.stderr


def credentials(acls: Acls, action: str, unit: str) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KAFKA_")},
        **acls.endpoints.kafka.as_env(),
        "SHAOBAO_STATE_DIR": str(acls.state_dir),
        "SHAOBAO_TOPIC_PREFIX": acls.names.prefix,
    }
    argv = [sys.executable, "-m", "shaobao.cli", "units", "credentials", action, unit]
    return subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603


def test_rotate_ends_the_old_password_and_revoke_ends_the_unit(acls: Acls) -> None:
    names = acls.names
    old_file = Path(acls.file("unit-cgj")).read_text()
    rotated = credentials(acls, "rotate", "cgj")
    assert rotated.returncode == 0, rotated.stderr
    assert rotated.stdout.startswith("unit-cgj: new password; client file ")
    new_file = Path(acls.file("unit-cgj")).read_text()
    assert new_file != old_file and "sasl.username=unit-cgj" in new_file

    stale = acls.state_dir / "stale.properties"
    stale.write_text(old_file)
    refused = kcat("-F", str(stale), "-P", "-t", names.unit_actions("cgj"), stdin="T-3|{}\n")
    assert refused.returncode != 0 and "Authentication failed" in refused.stderr, refused.stderr
    assert produce_as(acls, "unit-cgj", names.unit_actions("cgj"), "T-3|{}").returncode == 0

    stale.write_text(new_file)
    revoked = credentials(acls, "revoke", "cgj")
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout == "unit-cgj: user removed, 4 ACLs removed; its client file is deleted\n"
    assert not Path(acls.file("unit-cgj")).exists()
    gone = kcat("-F", str(stale), "-P", "-t", names.unit_actions("cgj"), stdin="T-4|{}\n")
    assert gone.returncode != 0 and "Authentication failed" in gone.stderr, gone.stderr

    # Issued again: the same ACLs, a fresh file that works.
    again = credentials(acls, "issue", "cgj")
    assert again.returncode == 0, again.stderr
    assert produce_as(acls, "unit-cgj", names.unit_actions("cgj"), "T-5|{}").returncode == 0

    unknown = credentials(acls, "issue", "nosuchunit")
    assert unknown.returncode == 2 and "'nosuchunit' is not a unit of this jurisdiction" in unknown.stderr
