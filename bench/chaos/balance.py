"""Which worker holds how many partitions: the consumer group's assignment, as the broker has it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from aiokafka.coordinator.protocol import ConsumerProtocol

Member = tuple[str, bytes]  # (member id, its assignment as the group coordinator holds it)


def described_group(described: Iterable[Any], group_id: str) -> tuple[str, list[Member]]:
    """The group's state and members from a DescribeGroups answer; ("Unknown", []) without it."""
    for response in described:
        for group in response.groups:
            # (error_code, group_id, state, protocol_type, protocol, members, ...); each member:
            # (member_id, client_id, client_host, metadata, assignment)
            if group[1] == group_id:
                return str(group[2]), [(str(m[0]), bytes(m[4])) for m in group[5]]
    return "Unknown", []


def partitions_per_member(members: Sequence[Member], topic: str) -> dict[str, int]:
    """Per member id, how many of `topic`'s partitions its assignment holds (0 for none)."""
    held: dict[str, int] = {}
    for member_id, assignment in members:
        count = 0
        if assignment:
            decoded = ConsumerProtocol.ASSIGNMENT.decode(assignment)
            count = sum(len(parts) for name, parts in decoded.assignment if name == topic)
        held[member_id] = count
    return held
