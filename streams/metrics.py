"""Every Prometheus metric of Shaobao, in one registry that `/metrics` renders.

Names follow Prometheus conventions: a `shaobao_` prefix, base units in the name
(`_seconds`, `_messages`), counters exposed with `_total`. Label values come from closed
sets (agents, topics, statuses, reasons, units of the jurisdiction), never from ticket ids.
Call sites use the small functions below rather than label internals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import prometheus_client
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from domain.ops import PartitionLag

# The classic text format, which every Prometheus 2.x and 3.x scrapes: our names are plain
# [a-z_] so the body is the same as the client's newer "version=1.0.0" label would announce.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# `_created` series double every counter and histogram for a timestamp nobody graphs.
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

_LATENCY_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500)
_DELAY_BUCKETS_S = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600)

AGENT_EVENTS = Counter(
    "shaobao_agent_events",
    "Events an agent consumed (direction=in) or produced (direction=out), by topic.",
    ["agent", "topic", "direction"],
    registry=REGISTRY,
)
AGENT_PROCESSING = Histogram(
    "shaobao_agent_processing_seconds",
    "Time from an event reaching an agent's stream to the agent acknowledging it.",
    ["agent", "topic"],
    buckets=_LATENCY_BUCKETS_S,
    registry=REGISTRY,
)
SEND_ERRORS = Counter(
    "shaobao_send_errors", "Records the producer failed to deliver, by topic.", ["topic"], registry=REGISTRY
)
DEAD_LETTERS = Counter(
    "shaobao_dead_letters",
    "Messages an agent could not process and set aside on dead.letters, by agent and reason.",
    ["agent", "reason"],
    registry=REGISTRY,
)
TRANSIENT_RETRIES = Counter(
    "shaobao_transient_retries",
    "Messages an agent is retrying because Kafka or PostgreSQL is unavailable, by agent.",
    ["agent"],
    registry=REGISTRY,
)
CONSUMER_LAG_MESSAGES = Gauge(
    "shaobao_consumer_lag_messages",
    "Records a consumer group has not consumed yet (log end minus committed offset).",
    ["group", "topic", "partition"],
    registry=REGISTRY,
)
CONSUMER_LAG_SECONDS = Gauge(
    "shaobao_consumer_lag_seconds",
    "Age of the oldest record a consumer group has not consumed yet (0 when caught up).",
    ["group", "topic", "partition"],
    registry=REGISTRY,
)
LAG_POLLS = Counter(
    "shaobao_lag_polls", "Consumer lag polls, by outcome (ok or error).", ["outcome"], registry=REGISTRY
)
LAG_LAST_POLL = Gauge(
    "shaobao_lag_last_poll_timestamp_seconds",
    "Unix time of the last successful consumer lag poll, by consumer group.",
    ["group"],
    registry=REGISTRY,
)
TICKETS_OPEN = Gauge(
    "shaobao_tickets_open", "Open tickets in PostgreSQL, by status.", ["status"], registry=REGISTRY
)
OVERDUE_TICKETS = Gauge(
    "shaobao_overdue_tickets",
    "Open tickets past a time limit, by responsible unit.",
    ["unit"],
    registry=REGISTRY,
)
COMMAND_REJECTIONS = Counter(
    "shaobao_command_rejections",
    "Ticket commands the ticket agent rejected, by command type and violation (state, authorization).",
    ["command_type", "violation"],
    registry=REGISTRY,
)
LIMIT_MARKS = Counter(
    "shaobao_limit_marks",
    "Time limits that reached a mark (at_risk, overdue, supervise), by mark and clock kind.",
    ["mark", "clock"],
    registry=REGISTRY,
)
INTAKE_REJECTIONS = Counter(
    "shaobao_intake_rejections",
    "Appeals rejected at intake, by reason (nothing is dropped silently).",
    ["reason"],
    registry=REGISTRY,
)
ALERTS_RAISED = Counter(
    "shaobao_alerts",
    "Alerts sent to the alerts topic, by kind and severity.",
    ["kind", "severity"],
    registry=REGISTRY,
)
SINK_BATCH_SIZE = Histogram(
    "shaobao_sink_batch_size",
    "Ticket events per batch the sink wrote to PostgreSQL.",
    buckets=_BATCH_BUCKETS,
    registry=REGISTRY,
)
SINK_WRITE = Histogram(
    "shaobao_sink_write_seconds",
    "Time to write one batch of ticket events to PostgreSQL.",
    buckets=_LATENCY_BUCKETS_S,
    registry=REGISTRY,
)
SINK_EVENTS_WRITTEN = Counter(
    "shaobao_sink_events_written", "Ticket events newly written to PostgreSQL.", registry=REGISTRY
)
STORE_ERRORS = Counter(
    "shaobao_store_errors",
    "Failed PostgreSQL operations, by operation and error type.",
    ["operation", "error"],
    registry=REGISTRY,
)
# For the timers (agents/timers.py): `set_timers_armed` after each scan of the partitions a
# worker owns, `timer_fired` for each mark sent; the names are the contract with the rules.
TIMERS_ARMED = Gauge(
    "shaobao_timers_armed", "Time-limit clocks currently armed, by clock kind.", ["clock"], registry=REGISTRY
)
TIMER_FIRING_DELAY = Histogram(
    "shaobao_timer_firing_delay_seconds",
    "How late a timer fired after its mark was due, by mark (at_risk, overdue, supervise).",
    ["mark"],
    buckets=_DELAY_BUCKETS_S,
    registry=REGISTRY,
)
# For the simulators (shaobao simulate, units simulate, callbacks simulate): what they produced.
SIMULATOR_RECORDS_SENT = Counter(
    "shaobao_simulator_records_sent",
    "Records a simulator produced, by simulator (appeals, units, callbacks) and topic.",
    ["simulator", "topic"],
    registry=REGISTRY,
)

_lag_series: set[tuple[str, str, str]] = set()


def render() -> bytes:
    """The text exposition of every metric."""
    return generate_latest(REGISTRY)


def record_lag(lags: Iterable[PartitionLag]) -> None:
    """Set the lag gauges to this poll's figures; partitions gone since the last poll disappear."""
    global _lag_series
    seen: set[tuple[str, str, str]] = set()
    for lag in lags:
        labels = (lag.group, lag.topic, str(lag.partition))
        seen.add(labels)
        CONSUMER_LAG_MESSAGES.labels(*labels).set(lag.messages)
        if lag.seconds is None:
            _remove(CONSUMER_LAG_SECONDS, labels)
        else:
            CONSUMER_LAG_SECONDS.labels(*labels).set(lag.seconds)
    for labels in _lag_series - seen:
        _remove(CONSUMER_LAG_MESSAGES, labels)
        _remove(CONSUMER_LAG_SECONDS, labels)
    _lag_series = seen


def set_open_tickets(by_status: Mapping[str, int]) -> None:
    """Replace the open-ticket gauges: a status with no tickets left reads 0 until the next restart."""
    for status in _known(TICKETS_OPEN, "status") - set(by_status):
        TICKETS_OPEN.labels(status).set(0)
    for status, count in by_status.items():
        TICKETS_OPEN.labels(status).set(count)


def set_timers_armed(by_clock: Mapping[str, int]) -> None:
    """Replace the armed-timer gauges: a clock kind with none armed any more reads 0."""
    for clock in _known(TIMERS_ARMED, "clock") - set(by_clock):
        TIMERS_ARMED.labels(clock).set(0)
    for clock, count in by_clock.items():
        TIMERS_ARMED.labels(clock).set(count)


def timer_fired(mark: str, delay_s: float) -> None:
    """A timer sent `mark` `delay_s` seconds after it was due (0 when on time or early)."""
    TIMER_FIRING_DELAY.labels(mark).observe(max(delay_s, 0.0))


def set_overdue(by_unit: Mapping[str, int]) -> None:
    """Replace the overdue gauges: open tickets with an overdue clock, by unit, read from
    PostgreSQL at each scrape of the control room's /metrics."""
    for unit in _known(OVERDUE_TICKETS, "unit") - set(by_unit):
        OVERDUE_TICKETS.labels(unit).set(0)
    for unit, count in by_unit.items():
        OVERDUE_TICKETS.labels(unit).set(count)


def _remove(gauge: Gauge, labels: tuple[str, ...]) -> None:
    try:
        gauge.remove(*labels)
    except KeyError:
        pass  # never set: nothing to remove


def _known(metric: Gauge, label: str) -> set[str]:
    """The values `label` has taken on `metric` so far."""
    return {sample.labels[label] for family in metric.collect() for sample in family.samples}
