"""Consumer lag from Kafka: a group's committed offsets against the log ends, and the age of
the oldest record it has not consumed. The arithmetic is `domain.ops.lag`; this is the I/O."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from agents.ports import LagUnavailable
from domain.ops import PartitionLag, PartitionOffsets, next_offset, partition_lag
from streams.kafka_access import KafkaAccess

log = logging.getLogger(__name__)


class KafkaLagProbe:
    """Long-lived admin client and group-less consumer, opened on first use.

    The consumer never joins a group and never commits: it only reads end offsets and seeks
    to the group's committed offsets to read the timestamp of the oldest unconsumed record.
    It keeps the partitions it watches assigned and paused between polls: an assignment is
    what makes aiokafka track a topic's metadata, and without it every offset request on a
    topic it does not track costs a metadata round and a 100 ms back-off (4.7 s per poll for
    the 47 topics a worker reads), while paused partitions are never fetched.
    """

    def __init__(
        self, kafka: KafkaAccess, request_timeout_ms: int = 5000, date_within_s: float = 2.0
    ) -> None:
        self._kafka = kafka
        self._timeout_ms = request_timeout_ms
        self._date_within_s = date_within_s
        self._admin: AIOKafkaAdminClient | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._watched: frozenset[TopicPartition] = frozenset()

    async def lag(self, group: str, now: datetime, topics: Sequence[str] = ()) -> list[PartitionLag]:
        """Lag of `group` on every partition it committed to, and on every partition of `topics`
        (a group that never committed on a topic still lags on it)."""
        return [partition_lag(offsets, now) for offsets in await self.offsets(group, topics)]

    async def offsets(self, group: str, topics: Sequence[str] = ()) -> list[PartitionOffsets]:
        try:
            admin, consumer = await self._clients()
            committed = {
                tp: meta.offset for tp, meta in (await admin.list_consumer_group_offsets(group)).items()
            }
            partitions = sorted(set(committed) | set(await self._partitions(admin, topics)))
            if not partitions:
                return []
            self._watch(consumer, partitions)
            starts = await consumer.beginning_offsets(partitions)
            ends = await consumer.end_offsets(partitions)
        except (TimeoutError, KafkaError, OSError) as exc:
            # The broker or the group coordinator is unreachable: reconnect on the next poll.
            await self.close()
            raise LagUnavailable(f"{type(exc).__name__}: {exc}") from exc
        found = [
            PartitionOffsets(group, tp.topic, tp.partition, committed.get(tp), starts[tp], ends[tp])
            for tp in partitions
        ]
        dated = await self._oldest_unconsumed(consumer, found)
        return [
            PartitionOffsets(
                o.group, o.topic, o.partition, o.committed, o.log_start, o.log_end, dated.get(_tp(o))
            )
            for o in found
        ]

    async def records_written(self, topics: Sequence[str]) -> dict[str, int]:
        """Per topic, its log-end offsets summed: every record ever written to it."""
        try:
            admin, consumer = await self._clients()
            partitions = await self._partitions(admin, topics)
            ends = await consumer.end_offsets(partitions) if partitions else {}
        except (TimeoutError, KafkaError, OSError) as exc:
            await self.close()  # reconnect on the next call
            raise LagUnavailable(f"{type(exc).__name__}: {exc}") from exc
        totals = dict.fromkeys(topics, 0)
        for tp, end in ends.items():
            totals[tp.topic] += end
        return totals

    async def close(self) -> None:
        admin, consumer = self._admin, self._consumer
        self._admin = self._consumer = None
        self._watched = frozenset()
        if consumer is not None:
            await consumer.stop()
        if admin is not None:
            await admin.close()

    async def _clients(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        if self._admin is None:
            admin = AIOKafkaAdminClient(**self._kafka.client_options(), request_timeout_ms=self._timeout_ms)
            await admin.start()
            self._admin = admin
        if self._consumer is None:
            consumer = AIOKafkaConsumer(
                **self._kafka.client_options(),
                group_id=None,
                enable_auto_commit=False,
                request_timeout_ms=self._timeout_ms,
                fetch_max_wait_ms=100,
                max_partition_fetch_bytes=64 * 1024,
            )
            await consumer.start()
            self._consumer = consumer
        return self._admin, self._consumer

    def _watch(self, consumer: AIOKafkaConsumer, partitions: Sequence[TopicPartition]) -> None:
        """Assign `partitions` paused (no await in between, so the fetcher never sees them
        running); a no-op while the set is unchanged."""
        if frozenset(partitions) == self._watched:
            return
        consumer.assign(list(partitions))
        consumer.pause(*partitions)
        self._watched = frozenset(partitions)

    async def _partitions(self, admin: AIOKafkaAdminClient, topics: Sequence[str]) -> list[TopicPartition]:
        if not topics:
            return []
        described = await admin.describe_topics(list(topics))
        return [
            TopicPartition(topic["topic"], part["partition"])
            for topic in described
            if topic["error_code"] == 0
            for part in topic["partitions"]
        ]

    async def _oldest_unconsumed(
        self, consumer: AIOKafkaConsumer, found: Iterable[PartitionOffsets]
    ) -> dict[TopicPartition, datetime]:
        """Timestamp of the record at each lagging partition's next offset, within a deadline.

        A partition whose record does not arrive in time stays undated (its lag in seconds is
        unknown for this poll) rather than holding up the poll.
        """
        lagging = {_tp(o): next_offset(o) for o in found if o.log_end > next_offset(o)}
        if not lagging:
            return {}
        for tp, offset in lagging.items():
            consumer.seek(tp, offset)
        consumer.resume(*lagging)
        dated: dict[TopicPartition, datetime] = {}
        deadline = time.monotonic() + self._date_within_s
        try:
            while len(dated) < len(lagging) and time.monotonic() < deadline:
                waiting = [tp for tp in lagging if tp not in dated]
                batches = await consumer.getmany(*waiting, timeout_ms=200, max_records=len(waiting))
                for tp, records in batches.items():
                    if records and tp not in dated:
                        dated[tp] = datetime.fromtimestamp(records[0].timestamp / 1000, tz=UTC)
                consumer.pause(*dated)  # its record is read: fetch no further
        except KafkaError as exc:
            log.warning("could not date the oldest unconsumed records: %s", exc)
        finally:
            consumer.pause(*lagging)
        return dated


def _tp(offsets: PartitionOffsets) -> TopicPartition:
    return TopicPartition(offsets.topic, offsets.partition)
