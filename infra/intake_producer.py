"""AiokafkaAppealProducer: puts HTTP-submitted appeals on `appeals.intake`, acknowledged by the broker."""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from schemas.appeal import Appeal
from web.ports import IntakeUnavailable

log = logging.getLogger(__name__)
SEND_TIMEOUT_S = 15.0


class AiokafkaAppealProducer:
    """Keyed `channel:source_id` (so the default murmur2 partitioner puts an appeal on the
    partition whose intake table knows its duplicates), `acks=all`, idempotent retries."""

    def __init__(self, bootstrap_servers: str, topic: str, send_timeout_s: float = SEND_TIMEOUT_S) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._topic = topic
        self._send_timeout_s = send_timeout_s
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Connect now if the broker is there; if not, the web app still starts (control room,
        health) and the first publish tries again."""
        try:
            await self._started()
        except IntakeUnavailable as exc:
            log.warning("intake producer not connected yet: %s", exc)

    async def stop(self) -> None:
        async with self._lock:
            if self._producer is not None:
                await self._producer.stop()
                self._producer = None

    async def publish(self, appeal: Appeal) -> None:
        producer = await self._started()
        try:
            async with asyncio.timeout(self._send_timeout_s):
                await producer.send_and_wait(
                    self._topic, key=appeal.intake_key.encode(), value=appeal.model_dump_json().encode()
                )
        except (KafkaError, TimeoutError) as exc:
            # Not acknowledged: the record may still land, so the client's retry with the same
            # source_id is what makes this safe (the intake agent keeps one ticket per key).
            raise IntakeUnavailable(f"appeals.intake did not acknowledge: {exc!r}") from exc

    async def _started(self) -> AIOKafkaProducer:
        async with self._lock:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=self._bootstrap_servers,
                    acks="all",
                    enable_idempotence=True,
                    client_id="shaobao-web-intake",
                )
                try:
                    await producer.start()
                except (KafkaError, OSError) as exc:
                    # Broker down or unreachable: release what start() opened, report, retry later.
                    await producer.stop()
                    raise IntakeUnavailable(f"Kafka at {self._bootstrap_servers}: {exc!r}") from exc
                self._producer = producer
            return self._producer
