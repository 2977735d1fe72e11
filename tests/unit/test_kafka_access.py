"""Kafka client settings from the environment and from librdkafka files; who may touch which topic."""

from __future__ import annotations

from pathlib import Path

import pytest

from shaobao.supervisor import without_password
from streams.kafka_access import KafkaAccess, KafkaAccessError
from streams.names import TopicNames
from streams.principals import Grant, all_grants, process_grants, unit_grants
from streams.settings import Settings, kafka_access

SCRAM_ENV = {
    "KAFKA_BOOTSTRAP_SERVERS": "k1:9092,k2:9092",
    "KAFKA_SECURITY_PROTOCOL": "sasl_plaintext",
    "KAFKA_SASL_USERNAME": "worker",
    "KAFKA_SASL_PASSWORD": "s3cret",
}


def test_plaintext_is_the_default_and_passes_no_credentials() -> None:
    access = KafkaAccess.from_env({})
    assert access.client_options() == {
        "bootstrap_servers": "127.0.0.1:9092",
        "security_protocol": "PLAINTEXT",
    }
    assert access.faust_credentials() is None
    assert access.principal == "ANONYMOUS"


def test_sasl_settings_reach_aiokafka_and_faust() -> None:
    access = KafkaAccess.from_env(SCRAM_ENV)
    assert access.client_options() == {
        "bootstrap_servers": "k1:9092,k2:9092",
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "worker",
        "sasl_plain_password": "s3cret",
    }
    credentials = access.faust_credentials()
    assert (credentials.username, credentials.password, credentials.mechanism.value) == (  # type: ignore[union-attr]
        "worker",
        "s3cret",
        "SCRAM-SHA-512",
    )
    assert access.faust_broker == "kafka://k1:9092;kafka://k2:9092"
    assert "s3cret" not in repr(access)


def test_a_principal_file_round_trips_and_is_kcats_format(tmp_path: Path) -> None:
    access = KafkaAccess.from_env(SCRAM_ENV)
    text = access.librdkafka_properties()
    assert text == (
        "bootstrap.servers=k1:9092,k2:9092\nsecurity.protocol=SASL_PLAINTEXT\n"
        "sasl.mechanisms=SCRAM-SHA-512\nsasl.username=worker\nsasl.password=s3cret\n"
    )
    assert KafkaAccess.from_properties("# a comment\n" + text) == access
    path = tmp_path / "worker.properties"
    path.write_text(text)
    assert KafkaAccess.from_env({"KAFKA_CLIENT_FILE": str(path)}) == access
    assert KafkaAccess.from_env(access.as_env()) == access


def test_incomplete_or_unknown_settings_are_refused_with_the_variable_named() -> None:
    with pytest.raises(KafkaAccessError, match="needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"):
        KafkaAccess.from_env({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "x"})
    with pytest.raises(KafkaAccessError, match="KAFKA_SECURITY_PROTOCOL must be one of"):
        KafkaAccess.from_env({"KAFKA_SECURITY_PROTOCOL": "KERBEROS"})
    with pytest.raises(KafkaAccessError, match="KAFKA_SASL_MECHANISM must be one of"):
        KafkaAccess.from_env({**SCRAM_ENV, "KAFKA_SASL_MECHANISM": "GSSAPI"})


def test_a_bare_command_uses_the_local_cli_principal_and_variables_win(tmp_path: Path) -> None:
    clients = tmp_path / "kafka" / "clients"
    clients.mkdir(parents=True)
    cli = KafkaAccess.from_env(SCRAM_ENV).as_principal("cli", "pw")
    (clients / "cli.properties").write_text(cli.librdkafka_properties())
    assert kafka_access({"SHAOBAO_STATE_DIR": str(tmp_path)}) == cli
    named = {"SHAOBAO_STATE_DIR": str(tmp_path), "KAFKA_BOOTSTRAP_SERVERS": "other:9092"}
    assert kafka_access(named) == KafkaAccess("other:9092")
    assert Settings.from_env({"SHAOBAO_STATE_DIR": str(tmp_path / "none")}).kafka == KafkaAccess()


def test_a_unit_may_write_only_its_actions_and_read_only_its_orders() -> None:
    names = TopicNames("p.")
    assert unit_grants(names, "zjj") == [
        Grant("unit-zjj", "topic", "p.units.zjj.actions", "write"),
        Grant("unit-zjj", "topic", "p.units.zjj.orders", "read"),
        Grant("unit-zjj", "group", "p.unit-zjj", "read"),
        Grant("unit-zjj", "group", "p.unit-zjj.", "read", "prefixed"),
    ]
    grants = all_grants(names, ["zjj", "cgj"])
    others = [g for g in grants if g.principal == "unit-zjj" and "cgj" in g.name]
    assert others == []
    assert len(grants) == len(process_grants(names, ["zjj", "cgj"])) + 8


def test_no_process_principal_but_the_worker_and_cli_reads_the_ticket_log_or_orders_at_large() -> None:
    names = TopicNames("p.")
    grants = process_grants(names, ["zjj"])
    readers_of_everything = {g.principal for g in grants if g.pattern == "prefixed" and g.operation == "read"}
    assert readers_of_everything == {"worker", "cli"}
    events_readers = {g.principal for g in grants if g.name == names.events and g.operation == "read"}
    assert events_readers == {"web", "callbacks-simulator"}
    orders_readers = {g.principal for g in grants if g.name == names.unit_orders("zjj")}
    assert orders_readers == {"units-simulator"}
    intake_writers = {g.principal for g in grants if g.name == names.intake and g.operation == "write"}
    assert intake_writers == {"web", "simulator", "importer", "cli"}
    # Without a prefix the deployment owns the cluster: the literal wildcard, not an empty prefix.
    assert Grant("worker", "topic", "*", "read") in process_grants(TopicNames(""), ["zjj"])


def test_a_bare_command_finds_the_local_database_url_with_its_password(tmp_path: Path) -> None:
    url = "postgresql://shaobao:p%40ss@127.0.0.1:55432/shaobao"
    (tmp_path / "services.env").write_text(f"KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092\nDATABASE_URL={url}\n")
    assert Settings.from_env({"SHAOBAO_STATE_DIR": str(tmp_path)}).database_url == url
    named = {"SHAOBAO_STATE_DIR": str(tmp_path), "DATABASE_URL": "postgresql://x@db/y"}
    assert Settings.from_env(named).database_url == "postgresql://x@db/y"
    assert (
        Settings.from_env({"SHAOBAO_STATE_DIR": str(tmp_path / "none")}).database_url
        == Settings().database_url
    )


def test_the_terminal_never_shows_the_database_password() -> None:
    assert without_password("postgresql://shaobao:s3cr3t@127.0.0.1:55432/shaobao") == (
        "postgresql://shaobao:***@127.0.0.1:55432/shaobao"
    )
    assert (
        without_password("postgresql://shaobao@127.0.0.1/shaobao") == "postgresql://shaobao@127.0.0.1/shaobao"
    )
