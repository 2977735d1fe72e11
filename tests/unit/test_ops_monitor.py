"""The ops monitor's poll, with a fake lag reader, a fake alerts topic and a frozen clock."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from faust.types import TopicT

from agents.ops_monitor import OpsMonitor
from domain.ops import PartitionLag
from schemas.alerts import Alert
from streams import metrics
from streams.app import Streams, create_streams, of_model
from streams.settings import Settings
from tests.fakes import FrozenClock, InMemoryLagReader

NOW = datetime(2026, 3, 2, 1, 15, 5, tzinfo=UTC)


class FakeTopic:
    def __init__(self) -> None:
        self.sent: list[tuple[bytes, Alert]] = []

    async def send(self, *, key: bytes, value: bytes, partition: int | None, force: bool) -> None:
        self.sent.append((key, Alert.model_validate_json(value)))


class FakeStore:
    errors_total = 0


@pytest.fixture
def streams(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Streams:
    # A prefix per test: the metrics registry is global to the process.
    prefix = f"{request.node.name[:40]}."
    # The monitor only sends to the alerts topic: a fake holding `send` alone stands in for it.
    alerts = cast(TopicT, FakeTopic())
    built = dataclasses.replace(create_streams(Settings(topic_prefix=prefix)), alerts=of_model(alerts, Alert))
    monkeypatch.setattr(built.app, "is_leader", lambda: True)
    return built


def sent(streams: Streams) -> list[tuple[bytes, Alert]]:
    topic = cast(FakeTopic, streams.alerts.topic)
    return list(topic.sent)


def sample(name: str, **labels: str) -> float | None:
    return metrics.REGISTRY.get_sample_value(name, labels)


async def test_a_poll_sets_the_lag_gauges_and_alerts_once_per_window(streams: Streams) -> None:
    group = streams.names.app_id
    reader, clock = InMemoryLagReader(), FrozenClock(NOW)
    reader.lags = [PartitionLag(group, "t.events", 0, 1500, 90.0), PartitionLag(group, "t.events", 1, 0, 0.0)]
    monitor = OpsMonitor(streams, reader, clock)

    await monitor.poll()
    clock.at += timedelta(seconds=10)
    await monitor.poll()  # same window: nothing new to say

    assert sample("shaobao_consumer_lag_messages", group=group, topic="t.events", partition="0") == 1500
    assert sample("shaobao_consumer_lag_seconds", group=group, topic="t.events", partition="0") == 90.0
    assert sample("shaobao_consumer_lag_messages", group=group, topic="t.events", partition="1") == 0
    assert sample("shaobao_lag_last_poll_timestamp_seconds", group=group) == clock.at.timestamp()
    [(key, alert)] = sent(streams)
    assert key == f"lag:{group}:t.events".encode()
    assert (alert.kind, alert.severity, alert.details["lag_messages"]) == ("lag", "warning", "1500")

    clock.at = NOW + timedelta(minutes=5)  # the next window: reminded
    await monitor.poll()
    assert [a.alert_id.rsplit(":", 1)[1] for _, a in sent(streams)] == [
        "20260302T011500Z",
        "20260302T012000Z",
    ]


async def test_partitions_gone_since_the_last_poll_leave_the_gauges(streams: Streams) -> None:
    group = streams.names.app_id
    reader = InMemoryLagReader()
    reader.lags = [PartitionLag(group, "t.old", 0, 3, 1.0)]
    monitor = OpsMonitor(streams, reader, FrozenClock(NOW))
    await monitor.poll()
    reader.lags = [PartitionLag(group, "t.new", 0, 0, 0.0)]
    await monitor.poll()
    assert sample("shaobao_consumer_lag_messages", group=group, topic="t.old", partition="0") is None
    assert sample("shaobao_consumer_lag_messages", group=group, topic="t.new", partition="0") == 0


async def test_only_the_leader_sends_lag_alerts_but_every_worker_keeps_the_gauges(
    streams: Streams, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = streams.names.app_id
    monkeypatch.setattr(streams.app, "is_leader", lambda: False)
    reader = InMemoryLagReader()
    reader.lags = [PartitionLag(group, "t.events", 0, 50_000, 900.0)]
    await OpsMonitor(streams, reader, FrozenClock(NOW)).poll()
    assert sent(streams) == []
    assert sample("shaobao_consumer_lag_messages", group=group, topic="t.events", partition="0") == 50_000


async def test_kafka_unreachable_counts_a_failed_poll_and_keeps_the_last_figures(streams: Streams) -> None:
    group = streams.names.app_id
    reader = InMemoryLagReader()
    reader.lags = [PartitionLag(group, "t.events", 0, 7, 2.0)]
    monitor = OpsMonitor(streams, reader, FrozenClock(NOW))
    await monitor.poll()
    errors_before = sample("shaobao_lag_polls_total", outcome="error") or 0.0
    reader.fail = True
    await monitor.poll()
    assert sample("shaobao_lag_polls_total", outcome="error") == errors_before + 1
    assert sample("shaobao_consumer_lag_messages", group=group, topic="t.events", partition="0") == 7
    assert sent(streams) == []


async def test_store_errors_since_the_last_poll_raise_one_alert_per_window_from_any_worker(
    streams: Streams, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streams.app, "is_leader", lambda: False)  # store alerts do not wait for leadership
    store, clock = FakeStore(), FrozenClock(NOW)
    monitor = OpsMonitor(streams, InMemoryLagReader(), clock, store)
    await monitor.poll()
    store.errors_total = 3
    await monitor.poll()
    store.errors_total = 5
    await monitor.poll()  # same window and severity: already raised
    clock.at = NOW + timedelta(minutes=5)
    await monitor.poll()  # no new errors: quiet
    alerts = sent(streams)
    assert [(key, a.kind, a.severity, a.details) for key, a in alerts] == [
        (b"store_errors", "store_errors", "warning", {"errors": "3"})
    ]


async def test_the_poll_asks_for_the_group_on_the_topics_its_agents_read(streams: Streams) -> None:
    from agents import tickets
    from shaobao.bootstrap import SystemClock

    tickets.install(streams, SystemClock())
    reader = InMemoryLagReader()
    await OpsMonitor(streams, reader, FrozenClock(NOW)).poll()
    assert reader.asked == [(streams.names.app_id, (streams.names.commands,))]
