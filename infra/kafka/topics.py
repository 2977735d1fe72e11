"""The project's topics, created with explicit partitions and cleanup policies."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from streams.kafka_access import KafkaAccess
from streams.names import TABLES, TopicNames

log = logging.getLogger(__name__)
FOREVER = "-1"
WEEK_MS = str(7 * 24 * 3600 * 1000)
MONTH_MS = str(30 * 24 * 3600 * 1000)


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str]


def topic_specs(
    names: TopicNames, units: Iterable[str], ticket_partitions: int, unit_partitions: int
) -> list[TopicSpec]:
    """Every topic of the wire contract. `tickets.events` is the source of truth: kept forever."""
    keep = {"cleanup.policy": "delete", "retention.ms": FOREVER}
    specs = [
        TopicSpec(names.intake, ticket_partitions, {"cleanup.policy": "delete", "retention.ms": MONTH_MS}),
        TopicSpec(names.rejected, ticket_partitions, keep),
        TopicSpec(names.commands, ticket_partitions, {"cleanup.policy": "delete", "retention.ms": WEEK_MS}),
        TopicSpec(names.events, ticket_partitions, keep),
        TopicSpec(names.dead_letters, ticket_partitions, keep),
        TopicSpec(names.alerts, ticket_partitions, {"cleanup.policy": "delete", "retention.ms": MONTH_MS}),
        TopicSpec(names.clusters, ticket_partitions, {"cleanup.policy": "delete", "retention.ms": WEEK_MS}),
        # One partition keeps publications in order; compaction keeps the latest per jurisdiction.
        TopicSpec(names.reference, 1, {"cleanup.policy": "compact"}),
    ]
    # Faust would create these itself, but a worker that starts before the broker's metadata
    # shows a just-created changelog sees 0 partitions and its agents crash: create them first.
    compact = {"cleanup.policy": "compact"}
    specs += [TopicSpec(names.changelog(table), ticket_partitions, compact) for table in TABLES]
    specs.append(TopicSpec(names.assignor_leader, 1, {}))
    for unit in units:
        specs.append(TopicSpec(names.unit_orders(unit), unit_partitions, {"retention.ms": MONTH_MS}))
        specs.append(TopicSpec(names.unit_actions(unit), unit_partitions, {"retention.ms": MONTH_MS}))
    return specs


def replication_for(brokers: int) -> tuple[int, int]:
    """(replication factor, min.insync.replicas) for a cluster of `brokers`: three copies with
    two in sync on three brokers or more, so an acknowledged record (`acks=all`) survives the
    loss of any one broker; one copy on a single broker (two on two, one in sync)."""
    if brokers < 1:
        raise ValueError(f"a cluster has at least one broker, not {brokers}")
    copies = min(brokers, 3)
    return copies, 2 if copies == 3 else 1


def replicated(spec: TopicSpec, brokers: int) -> NewTopic:
    copies, in_sync = replication_for(brokers)
    config = {**spec.config, "min.insync.replicas": str(in_sync)}
    return NewTopic(spec.name, spec.partitions, copies, topic_configs=config)


async def ensure_topics(kafka: KafkaAccess, specs: list[TopicSpec]) -> list[str]:
    """Create the topics that do not exist yet, replicated as the cluster's size allows
    (`replication_for`); returns the names created."""
    admin = AIOKafkaAdminClient(**kafka.client_options(), request_timeout_ms=30000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        if missing:
            brokers = len((await admin.describe_cluster())["brokers"])
            new = [replicated(s, brokers) for s in missing]
            try:
                await admin.create_topics(new, timeout_ms=30000)
            except TopicAlreadyExistsError:
                # Another process created them between our listing and our request.
                log.info("topics already created by another process")
        await _wait_visible(admin, {s.name for s in specs})
        return [s.name for s in missing]
    finally:
        await admin.close()


async def list_topic_names(kafka: KafkaAccess) -> set[str]:
    admin = AIOKafkaAdminClient(**kafka.client_options(), request_timeout_ms=30000)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def delete_topics(kafka: KafkaAccess, names: Iterable[str]) -> None:
    """Delete topics (a test session's own): a broker that keeps every run's partitions runs
    out of heap."""
    doomed = sorted(names)
    if not doomed:
        return
    admin = AIOKafkaAdminClient(**kafka.client_options(), request_timeout_ms=30000)
    await admin.start()
    try:
        await admin.delete_topics(doomed, timeout_ms=30000)
    finally:
        await admin.close()


async def _wait_visible(admin: AIOKafkaAdminClient, names: set[str], timeout_s: float = 30.0) -> None:
    """Return once the broker's metadata lists every topic (creation is asynchronous in KRaft)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while missing := names - set(await admin.list_topics()):
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"topics still not visible after {timeout_s}s: {sorted(missing)[:5]}")
        await asyncio.sleep(0.2)
