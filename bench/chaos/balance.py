"""Which worker holds how many partitions: the consumer group's assignment, as the broker has it."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocol

from streams.kafka_access import KafkaAccess


def partitions_per_member(members: Iterable[tuple[str, bytes]], topic: str) -> dict[str, int]:
    """Per member id, how many of `topic`'s partitions its assignment holds (0 for none)."""
    held: dict[str, int] = {}
    for member_id, assignment in members:
        count = 0
        if assignment:
            decoded = ConsumerProtocol.ASSIGNMENT.decode(assignment)
            count = sum(len(parts) for name, parts in decoded.assignment if name == topic)
        held[member_id] = count
    return held


async def partition_balance(kafka: KafkaAccess, group_id: str, topic: str) -> tuple[str, dict[str, int]]:
    """The group's state and, per member, how many of `topic`'s partitions it holds."""
    admin = AIOKafkaAdminClient(**kafka.client_options(), request_timeout_ms=5000)
    await admin.start()
    try:
        described = await admin.describe_consumer_groups([group_id])
    finally:
        await admin.close()
    for response in described:
        for group in response.groups:
            # (error_code, group_id, state, protocol_type, protocol, members, ...); each member:
            # (member_id, client_id, client_host, metadata, assignment)
            if group[1] == group_id:
                members = [(str(m[0]), bytes(m[4])) for m in group[5]]
                return str(group[2]), partitions_per_member(members, topic)
    return "Dead", {}
