"""AiokafkaRoomFeed: every partition of `tickets.events` and `alerts`, for the control room.

Partitions are assigned, not subscribed in a group: each web process reads all of them,
so its view is global however many workers share the pipeline's partitions. It reads
`tickets.events` from where the pipeline's group has committed (everything before that
offset has been recorded in PostgreSQL, which the room's snapshot read) or from a minute
before the snapshot, whichever is earlier; the room view skips what it already holds.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.structs import TopicPartition

from streams.kafka_access import KafkaAccess
from web.ports import FeedNotReady

log = logging.getLogger(__name__)
SNAPSHOT_MARGIN = timedelta(minutes=1)
START_TIMEOUT_S = 10.0
ALERTS_BACKLOG = 100


class AiokafkaRoomFeed:
    def __init__(self, kafka: KafkaAccess, events_topic: str, alerts_topic: str, pipeline_group: str) -> None:
        self._kafka = kafka
        self._events = events_topic
        self._alerts = alerts_topic
        self._group = pipeline_group
        self._consumer: AIOKafkaConsumer | None = None

    async def committed(self) -> dict[int, int]:
        """The pipeline group's committed offsets on `tickets.events`, by partition; read first."""
        admin = AIOKafkaAdminClient(**self._kafka.client_options(), request_timeout_ms=5000)
        try:
            await admin.start()
            offsets = await admin.list_consumer_group_offsets(self._group)
        except (KafkaError, OSError) as exc:
            raise FeedNotReady(f"offsets of {self._group}: {exc!r}") from exc
        finally:
            await admin.close()
        return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == self._events}

    async def start(self, committed: dict[int, int], snapshot_at: datetime) -> None:
        consumer = AIOKafkaConsumer(
            **self._kafka.client_options(),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id="shaobao-room",
        )
        try:
            # A topic created a moment ago can leave the consumer's metadata without its leaders,
            # and the offset lookups retrying for minutes: start again with fresh metadata.
            async with asyncio.timeout(START_TIMEOUT_S):
                await consumer.start()
                await self._assign(consumer, committed, snapshot_at)
        except (KafkaError, OSError, TimeoutError) as exc:
            await consumer.stop()
            raise FeedNotReady(str(exc)) from exc
        except BaseException:
            # FeedNotReady, or the web app stopping while this starts: close what was opened.
            await consumer.stop()
            raise
        self._consumer = consumer

    async def _partitions(self) -> dict[str, list[int]]:
        # Asked of the brokers each time: the topics may have been created since the last try.
        admin = AIOKafkaAdminClient(**self._kafka.client_options(), request_timeout_ms=5000)
        try:
            await admin.start()
            described = await admin.describe_topics([self._events, self._alerts])
        finally:
            await admin.close()
        found = {d["topic"]: sorted(p["partition"] for p in d["partitions"]) for d in described}
        leaderless = [d["topic"] for d in described if any(p["leader"] < 0 for p in d["partitions"])]
        if not found.get(self._events) or not found.get(self._alerts) or leaderless:
            raise FeedNotReady(f"{self._events} or {self._alerts} has no partitions (with leaders) yet")
        return found

    async def _assign(
        self, consumer: AIOKafkaConsumer, committed: dict[int, int], snapshot_at: datetime
    ) -> None:
        partitions = await self._partitions()
        events, alerts = partitions[self._events], partitions[self._alerts]
        event_tps = [TopicPartition(self._events, p) for p in events]
        alert_tps = [TopicPartition(self._alerts, p) for p in alerts]
        consumer.assign([*event_tps, *alert_tps])
        first = await consumer.beginning_offsets([*event_tps, *alert_tps])
        last = await consumer.end_offsets([*event_tps, *alert_tps])
        since_ms = int((snapshot_at - SNAPSHOT_MARGIN).timestamp() * 1000)
        by_time = await consumer.offsets_for_times(dict.fromkeys(event_tps, since_ms))
        for tp in event_tps:
            timed = by_time.get(tp)
            start = min(committed.get(tp.partition, first[tp]), timed.offset if timed else last[tp])
            consumer.seek(tp, max(start, first[tp]))
        for tp in alert_tps:
            consumer.seek(tp, max(first[tp], last[tp] - ALERTS_BACKLOG))

    async def read(self, timeout_ms: int = 100) -> tuple[list[bytes], list[bytes]]:
        """The next records: (events, alerts), each in partition order."""
        if self._consumer is None:
            raise FeedNotReady("not started")
        try:
            batches = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=2000)
        except KafkaError as exc:  # the broker went away: the room re-reads its snapshot
            raise FeedNotReady(f"reading {self._events} and {self._alerts}: {exc!r}") from exc
        events: list[bytes] = []
        alerts: list[bytes] = []
        for tp, records in batches.items():
            target = events if tp.topic == self._events else alerts
            target.extend(r.value for r in records if r.value is not None)
        return events, alerts

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None
