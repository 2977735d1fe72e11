"""Which partition a key belongs on, the way Kafka's Java clients and aiokafka choose it."""

from __future__ import annotations

from aiokafka.partitioner import murmur2


def partition_for(key: bytes, partitions: int) -> int:
    """Kafka's default partitioner: murmur2 of the key, made positive, modulo the partition count."""
    return int(murmur2(key) & 0x7FFFFFFF) % partitions
