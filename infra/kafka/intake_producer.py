"""AiokafkaAppealProducer: puts HTTP-submitted appeals on `appeals.intake`, acknowledged by the broker."""

from __future__ import annotations

from infra.kafka.lazy_producer import SEND_TIMEOUT_S, LazyProducer
from schemas.appeal import Appeal
from streams.kafka_access import KafkaAccess
from web.ports import IntakeUnavailable


class AiokafkaAppealProducer:
    """Keyed `channel:source_id`, so the default murmur2 partitioner puts an appeal on the
    partition whose intake table knows its duplicates; the client's retry with the same
    source_id is what makes an unacknowledged send safe."""

    def __init__(self, kafka: KafkaAccess, topic: str, send_timeout_s: float = SEND_TIMEOUT_S) -> None:
        self._topic = topic
        self._producer = LazyProducer(kafka, "shaobao-web-intake", IntakeUnavailable, send_timeout_s)

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, appeal: Appeal) -> None:
        await self._producer.send(self._topic, appeal.intake_key, appeal.model_dump_json())
