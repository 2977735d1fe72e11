"""Ops monitor: every 10 s, the worker's consumer lag into the gauges, and lag and store-error
alerts onto the alerts topic.

The timer runs on every worker, not `on_leader=True`: lag is the same figure from any worker,
and a leader-only timer would leave the last leader's gauges frozen at their old values after
leadership moves (Faust does not tell a timer it lost leadership); Prometheus takes the `max`
over workers. Lag alerts are sent by the leader only, so one worker speaks for the group;
their ids are stable per window (domain.ops.alerts), so an alert sent twice while leadership
moves is still one alert downstream. Store-error alerts come from each worker, because each
has its own sink and store. None of this is a ticket deadline: a missed poll costs nothing.
"""

from __future__ import annotations

import logging
from collections import deque
from datetime import datetime

import faust

from agents.boundary import Task, guard_task
from agents.ports import LagReader, LagUnavailable, StoreErrorCount, TimeSource
from domain.ops import (
    LagThresholds,
    StoreErrorThresholds,
    lag_alerts,
    ops_alert_key,
    store_error_alert,
    topic_lags,
)
from schemas.alerts import Alert
from streams import log_context, metrics
from streams.app import Streams

log = logging.getLogger(__name__)
POLL_INTERVAL_S = 10.0
REMEMBERED_ALERTS = 1024


class OpsMonitor:
    """One poll: read the lag, set the gauges, send the alerts not sent yet."""

    def __init__(
        self,
        streams: Streams,
        reader: LagReader,
        clock: TimeSource,
        store: StoreErrorCount | None = None,
        lag_thresholds: LagThresholds | None = None,
        store_thresholds: StoreErrorThresholds | None = None,
    ) -> None:
        self._streams, self._reader, self._clock, self._store = streams, reader, clock, store
        self._lag_thresholds = lag_thresholds or LagThresholds()
        self._store_thresholds = store_thresholds or StoreErrorThresholds()
        self._errors_seen = store.errors_total if store is not None else 0
        self._sent: deque[str] = deque(maxlen=REMEMBERED_ALERTS)

    async def poll(self) -> None:
        now = self._clock.now()
        group = self._streams.names.app_id
        try:
            lags = await self._reader.lag(group, now, source_topics(self._streams.app))
        except LagUnavailable as exc:
            metrics.LAG_POLLS.labels("error").inc()
            log.warning("consumer lag unavailable: %s", exc)
        else:
            metrics.LAG_POLLS.labels("ok").inc()
            metrics.LAG_LAST_POLL.labels(group).set(now.timestamp())
            metrics.record_lag(lags)
            if self._streams.app.is_leader():
                for alert in lag_alerts(topic_lags(lags), self._lag_thresholds, now):
                    await self._send(alert)
        await self._check_store(now)

    async def _check_store(self, now: datetime) -> None:
        if self._store is None:
            return
        total = self._store.errors_total
        alert = store_error_alert(total - self._errors_seen, self._store_thresholds, now)
        self._errors_seen = total
        if alert is not None:
            await self._send(alert)

    async def _send(self, alert: Alert) -> None:
        if alert.alert_id in self._sent:
            return  # already raised in this window
        await self._streams.alerts.send(ops_alert_key(alert), alert)
        self._sent.append(alert.alert_id)
        log.warning("%s", alert.message, extra={"alert_id": alert.alert_id})


def source_topics(app: faust.App) -> list[str]:
    """The topics the app's agents read: a group that never committed on one still lags there."""
    topics: set[str] = set()
    for agent in app.agents.values():
        topics.update(getattr(agent.channel, "topics", ()) or ())
    return sorted(topics)


def install(streams: Streams, monitor: OpsMonitor, interval_s: float = POLL_INTERVAL_S) -> Task:
    async def poll_consumer_lag() -> None:
        log_context.agent.set("poll_consumer_lag")  # its sends are counted under this name
        await monitor.poll()

    task = guard_task("poll_consumer_lag", poll_consumer_lag)
    streams.app.timer(interval_s, name="poll_consumer_lag")(task)
    return task
