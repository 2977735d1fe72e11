"""Three local brokers (`SHAOBAO_KAFKA_BROKERS=3`): topics get three replicas with two in sync,
and every record a producer had acknowledged is still there after the partition leader is
SIGKILLed mid-stream, while writing goes on."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from infra.kafka.topics import TopicSpec, ensure_topics
from infra.local import LocalKafkaCluster, ensure_kafka_jars, partition_leader
from infra.local.kafka import DEFAULT_CACHE_DIR, kafka_node_ids
from streams.kafka_access import KafkaAccess

pytestmark = pytest.mark.integration
TOPIC = "local-cluster.check"
BEFORE, AFTER = 100, 100


@pytest.fixture
def cluster() -> Iterator[LocalKafkaCluster]:
    state_dir = Path(tempfile.mkdtemp(prefix="shaobao-local-cluster-"))
    found = LocalKafkaCluster(
        state_dir, ensure_kafka_jars(DEFAULT_CACHE_DIR), port=19192, controller_port=19193
    )
    try:
        yield found
    finally:
        for node in found.nodes:  # thrown away: no controlled shutdown to wait for (20-30 s)
            node.kill()
        shutil.rmtree(state_dir, ignore_errors=True)


async def test_three_brokers_replicate_and_keep_every_acknowledged_record_through_a_leader_kill(
    cluster: LocalKafkaCluster,
) -> None:
    await asyncio.to_thread(cluster.start)
    access = cluster.admin_access
    assert access.bootstrap_servers == "127.0.0.1:19192,127.0.0.1:19194,127.0.0.1:19196"
    started = await _views_until_whole(access, {1, 2, 3})
    assert started[-1][1] == [1, 2, 3], started
    assert await ensure_topics(access, [TopicSpec(TOPIC, 3, {"cleanup.policy": "delete"})]) == [TOPIC]
    replicas, in_sync = await _replication(access, TOPIC)
    assert replicas == {0: 3, 1: 3, 2: 3}
    assert in_sync == "2"

    producer = AIOKafkaProducer(**access.producer_options())
    await producer.start()
    try:
        for i in range(BEFORE):
            await producer.send_and_wait(TOPIC, f"v{i}".encode(), key=b"k", partition=0)
        leader = await asyncio.to_thread(partition_leader, access, TOPIC, 0)
        await asyncio.to_thread(cluster.node(leader).kill)
        # Acknowledged by the two replicas left (min.insync.replicas=2) under a new leader.
        for i in range(BEFORE, BEFORE + AFTER):
            await asyncio.wait_for(producer.send_and_wait(TOPIC, f"v{i}".encode(), key=b"k", partition=0), 60)
        new_leader = await asyncio.to_thread(partition_leader, access, TOPIC, 0)
    finally:
        await producer.stop()
    assert new_leader in {1, 2, 3} - {leader}
    assert await asyncio.to_thread(kafka_node_ids, access) == {1, 2, 3} - {leader}

    await asyncio.to_thread(cluster.start)  # the killed node again, until every node lists it
    views = await _views_until_whole(access, {1, 2, 3})
    assert views[-1][1] == [1, 2, 3], views
    values = await _read_partition(access, TOPIC, 0, BEFORE + AFTER)
    assert values == [f"v{i}".encode() for i in range(BEFORE + AFTER)]


async def _replication(access: KafkaAccess, topic: str) -> tuple[dict[int, int], str]:
    """Replicas per partition, and the topic's min.insync.replicas (asked again until the broker
    that answers knows the just-created topic)."""
    admin = AIOKafkaAdminClient(**access.client_options())
    await admin.start()
    try:
        for _ in range(50):
            [described] = await admin.describe_topics([topic])
            configs = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
            entries = {entry[0]: str(entry[1]) for entry in configs[0].resources[0][4]}
            if "min.insync.replicas" in entries and described["partitions"]:
                break
            await asyncio.sleep(0.2)
    finally:
        await admin.close()
    replicas = {p["partition"]: len(p["replicas"]) for p in described["partitions"]}
    return replicas, entries.get("min.insync.replicas", "(not described)")


async def _views_until_whole(
    access: KafkaAccess, everyone: set[int], timeout_s: float = 20.0
) -> list[tuple[float, list[int]]]:
    """The node ids the cluster lists, each time they change, until all of `everyone` (a node
    that has just come back may be fenced again once while it catches up)."""
    views: list[tuple[float, list[int]]] = []
    began = asyncio.get_running_loop().time()
    while (elapsed := asyncio.get_running_loop().time() - began) < timeout_s:
        listed = sorted(await asyncio.to_thread(kafka_node_ids, access))
        if not views or views[-1][1] != listed:
            views.append((round(elapsed, 2), listed))
        if set(listed) == everyone:
            break
        await asyncio.sleep(0.2)
    return views


async def _read_partition(access: KafkaAccess, topic: str, partition: int, count: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        **access.client_options(), auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    try:
        where = TopicPartition(topic, partition)
        consumer.assign([where])
        await consumer.seek_to_beginning(where)
        values: list[bytes] = []
        while len(values) < count:
            batch = await asyncio.wait_for(consumer.getmany(where, timeout_ms=1000), 30)
            values += [record.value or b"" for record in batch.get(where, [])]
        # Nothing beyond: no record was written twice.
        assert await consumer.getmany(where, timeout_ms=1000) == {}
    finally:
        await consumer.stop()
    return values
