"""How many local brokers, their quorum, and how many copies of each topic they keep."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.kafka.topics import TopicSpec, replicated, replication_for
from infra.local import LocalKafkaCluster, ServiceUnavailableError, brokers_wanted
from infra.local.kafka import server_properties


def test_replication_is_three_copies_two_in_sync_from_three_brokers_up() -> None:
    assert [replication_for(n) for n in (1, 2, 3, 4, 5)] == [(1, 1), (2, 1), (3, 2), (3, 2), (3, 2)]
    with pytest.raises(ValueError, match="at least one broker"):
        replication_for(0)


def test_a_created_topic_keeps_its_own_config_and_gets_the_clusters_replication() -> None:
    topic = replicated(TopicSpec("t.tickets.events", 6, {"cleanup.policy": "delete"}), brokers=3)
    assert (topic.name, topic.num_partitions, topic.replication_factor) == ("t.tickets.events", 6, 3)
    assert topic.topic_configs == {"cleanup.policy": "delete", "min.insync.replicas": "2"}
    single = replicated(TopicSpec("t.x", 1, {}), brokers=1)
    assert (single.replication_factor, single.topic_configs) == (1, {"min.insync.replicas": "1"})


def test_brokers_wanted_reads_the_variable_and_refuses_nonsense() -> None:
    assert brokers_wanted({}) == 1
    assert brokers_wanted({"SHAOBAO_KAFKA_BROKERS": " 3 "}) == 3
    for bad in ("0", "three", "-1", "6"):
        with pytest.raises(ServiceUnavailableError, match="SHAOBAO_KAFKA_BROKERS"):
            brokers_wanted({"SHAOBAO_KAFKA_BROKERS": bad})


def test_a_single_node_keeps_one_copy_and_kafkas_own_fencing_time() -> None:
    props = _props(node_id=1, voters=None, replication=1)
    assert props["controller.quorum.voters"] == "1@127.0.0.1:9093"
    assert [props[k] for k in _REPLICATION_KEYS] == ["1", "1", "1", "1", "1"]
    assert "broker.session.timeout.ms" not in props


def test_a_node_of_three_votes_with_the_others_and_keeps_three_copies() -> None:
    voters = "1@127.0.0.1:9093,2@127.0.0.1:9095,3@127.0.0.1:9097"
    props = _props(node_id=2, voters=voters, replication=3)
    assert (props["node.id"], props["controller.quorum.voters"]) == ("2", voters)
    assert [props[k] for k in _REPLICATION_KEYS] == ["3", "3", "2", "3", "2"]
    assert (props["broker.session.timeout.ms"], props["broker.heartbeat.interval.ms"]) == ("4000", "1000")


def test_the_cluster_lays_its_nodes_out_on_interleaved_ports_sharing_one_state(tmp_path: Path) -> None:
    cluster = LocalKafkaCluster(tmp_path / "c", tmp_path / "libs", size=3, port=9092, controller_port=9093)
    nodes = [(n.node_id, n.port, n.controller_port, n.state_dir.name) for n in cluster.nodes]
    assert nodes == [(1, 9092, 9093, "node-1"), (2, 9094, 9095, "node-2"), (3, 9096, 9097, "node-3")]
    assert cluster.bootstrap_servers == "127.0.0.1:9092,127.0.0.1:9094,127.0.0.1:9096"
    assert {n.secrets_file for n in cluster.nodes} == {(tmp_path / "c" / "secrets.json").resolve()}
    assert {n.voters for n in cluster.nodes} == {"1@127.0.0.1:9093,2@127.0.0.1:9095,3@127.0.0.1:9097"}
    with pytest.raises(Exception, match="overlap"):
        LocalKafkaCluster(tmp_path / "d", tmp_path / "libs", size=3, port=9092, controller_port=9094)


_REPLICATION_KEYS = (
    "offsets.topic.replication.factor",
    "transaction.state.log.replication.factor",
    "transaction.state.log.min.isr",
    "default.replication.factor",
    "min.insync.replicas",
)


def _props(node_id: int, voters: str | None, replication: int) -> dict[str, str]:
    return server_properties(
        host="127.0.0.1",
        port=9092,
        controller_port=9093,
        log_dir=Path("/x"),
        admin_password="a",
        controller_password="c",
        node_id=node_id,
        voters=voters,
        replication=replication,
    )
