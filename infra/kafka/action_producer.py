"""AiokafkaActionProducer: what the HTTP API accepted, onto the topics a Kafka client would use."""

from __future__ import annotations

from infra.kafka.lazy_producer import SEND_TIMEOUT_S, LazyProducer
from schemas.actions import UnitAction
from schemas.commands import ControlCommand
from streams.kafka_access import KafkaAccess
from streams.names import TopicNames
from web.ports import PublishUnavailable


class AiokafkaActionProducer:
    """Keyed `ticket_id` (default murmur2 partitioner, like every writer of these topics); the
    ticket agent acts once per command id, so a retried request is safe."""

    def __init__(self, kafka: KafkaAccess, names: TopicNames, send_timeout_s: float = SEND_TIMEOUT_S) -> None:
        self._names = names
        self._producer = LazyProducer(kafka, "shaobao-web-api", PublishUnavailable, send_timeout_s)

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish_action(self, unit: str, action: UnitAction) -> None:
        await self._producer.send(self._names.unit_actions(unit), action.ticket_id, action.model_dump_json())

    async def publish_command(self, command: ControlCommand) -> None:
        await self._producer.send(self._names.commands, command.ticket_id, command.model_dump_json())
