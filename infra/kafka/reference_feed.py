"""`config.reference` read by every worker on its own: aiokafka with no consumer group."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError

from agents.reference import FeedRecord
from streams.kafka_access import KafkaAccess

log = logging.getLogger(__name__)
RETRY_S = 2.0


class KafkaReferenceFeed:
    """Every record of the topic from its start, then each new one, in order.

    Without a group, aiokafka assigns the subscriber every partition. After an
    interruption the topic is read again from its start: it is compacted and
    small, and taking up the same references again in order ends in the same one.
    """

    def __init__(self, kafka: KafkaAccess, topic: str) -> None:
        self._kafka = kafka
        self._topic = topic

    async def records(self) -> AsyncIterator[FeedRecord]:
        while True:
            consumer = AIOKafkaConsumer(
                self._topic,
                **self._kafka.client_options(),
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
            )
            try:
                await consumer.start()
                async for message in consumer:
                    if message.value is not None:  # a tombstone removes nothing that is in force
                        position = f"{message.topic}:{message.partition}:{message.offset}"
                        yield FeedRecord(position=position, value=message.value)
            except KafkaError as error:
                # The broker went away or the topic is not there yet: read it again from the start.
                log.warning("reference feed on %s interrupted (%s); retrying", self._topic, error)
                await asyncio.sleep(RETRY_S)
            except Exception:
                # Anything else must not leave the worker deaf to new references for good.
                log.exception("reference feed on %s failed; retrying", self._topic)
                await asyncio.sleep(RETRY_S)
            finally:
                await consumer.stop()
