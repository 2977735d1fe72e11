"""LazyProducer: an acknowledged, idempotent aiokafka producer that connects on first use.

The web process starts (control room, health) while the broker is still down; each publish
tries to connect again and reports a broker that does not acknowledge as the caller's own
"unavailable" error, so the HTTP layer answers 503 and the client retries with the same ids.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from streams.kafka_access import KafkaAccess

log = logging.getLogger(__name__)
SEND_TIMEOUT_S = 15.0


class LazyProducer:
    """`acks=all`, idempotent retries, keys for the default murmur2 partitioner."""

    def __init__(
        self,
        kafka: KafkaAccess,
        client_id: str,
        unavailable: Callable[[str], Exception],
        send_timeout_s: float = SEND_TIMEOUT_S,
    ) -> None:
        self._kafka = kafka
        self._client_id = client_id
        self._unavailable = unavailable
        self._send_timeout_s = send_timeout_s
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Connect now if the broker is there; if not, the first send tries again."""
        try:
            await self._started()
        except Exception as exc:  # noqa: BLE001 - only our own "unavailable" is raised here
            log.warning("%s not connected yet: %s", self._client_id, exc)

    async def stop(self) -> None:
        async with self._lock:
            if self._producer is not None:
                await self._producer.stop()
                self._producer = None

    async def send(self, topic: str, key: str, value: str) -> None:
        producer = await self._started()
        try:
            async with asyncio.timeout(self._send_timeout_s):
                await producer.send_and_wait(topic, key=key.encode(), value=value.encode())
        except (KafkaError, TimeoutError) as exc:
            # Not acknowledged: the record may still land, so the client's retry with the same
            # ids is what makes this safe (every reader is idempotent on them).
            raise self._unavailable(f"{topic} did not acknowledge: {exc!r}") from exc

    async def _started(self) -> AIOKafkaProducer:
        async with self._lock:
            if self._producer is None:
                producer = AIOKafkaProducer(**self._kafka.producer_options(client_id=self._client_id))
                try:
                    await producer.start()
                except (KafkaError, OSError) as exc:
                    # Broker down or unreachable: release what start() opened, report, retry later.
                    await producer.stop()
                    raise self._unavailable(f"Kafka at {self._kafka.bootstrap_servers}: {exc!r}") from exc
                self._producer = producer
            return self._producer
