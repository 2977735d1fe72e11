"""Is the pipeline ready? The worker's consumer group has members and partitions."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient

from streams.kafka_access import KafkaAccess


async def group_has_members(kafka: KafkaAccess, group_id: str) -> bool:
    """True once the group is Stable with at least one member holding an assignment."""
    admin = AIOKafkaAdminClient(**kafka.client_options(), request_timeout_ms=5000)
    try:
        await admin.start()
        described = await admin.describe_consumer_groups([group_id])
    except Exception:  # noqa: BLE001 - any failure to ask the broker means "not ready"
        return False
    finally:
        await admin.close()
    for response in described:
        for group in response.groups:
            # (error_code, group_id, state, protocol_type, protocol, members, ...)
            if group[1] == group_id and group[2] == "Stable" and len(group[5]) > 0:
                return True
    return False
