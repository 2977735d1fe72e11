"""A Faust sensor that meters every agent, so no agent body has to change.

Faust calls a sensor for each event a stream yields (`on_stream_event_in`), when the agent
acknowledges it (`on_stream_event_out`, the next iteration of its loop), and for every
record produced (`on_send_initiated`). The stream's `prefix` is its agent's name. The `in`
hook runs in the agent's own task, so it also sets the log context (agent, ticket id) that
the agent's log lines carry, and that its sends are attributed to.
"""

from __future__ import annotations

import json
from time import monotonic
from typing import Any, get_args

import faust

from schemas.alerts import AlertKind, Severity
from schemas.rejections import RejectionReason
from streams import log_context, metrics
from streams.names import TopicNames

# Start times of events not yet acknowledged; a rebalance drops those of revoked partitions,
# and this cap bounds the map should acknowledgements stop arriving for another reason.
MAX_IN_FLIGHT = 100_000
_REASONS = frozenset(get_args(RejectionReason))
_KINDS = frozenset(get_args(AlertKind))
_SEVERITIES = frozenset(get_args(Severity))


class OpsSensor(faust.Sensor):
    """Counts events in and out per agent and topic, times each event through its agent,
    counts intake rejections by reason and alerts by kind from what is produced."""

    def __init__(self, names: TopicNames, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rejected = names.rejected
        self._alerts = names.alerts
        self._ticket_keyed = frozenset({names.commands, names.events})
        self._event_started_at: dict[tuple[int, str, int, int], float] = {}

    def on_stream_event_in(self, tp: Any, offset: int, stream: Any, event: Any) -> None:
        agent = stream.prefix or "stream"
        metrics.AGENT_EVENTS.labels(agent, tp.topic, "in").inc()
        log_context.agent.set(agent)
        key = event.key if tp.topic in self._ticket_keyed else None
        log_context.ticket_id.set(key.decode("utf-8", "replace") if isinstance(key, bytes) else None)
        if len(self._event_started_at) >= MAX_IN_FLIGHT:
            self._event_started_at.clear()
        self._event_started_at[(id(stream), tp.topic, tp.partition, offset)] = monotonic()

    def on_stream_event_out(
        self, tp: Any, offset: int, stream: Any, event: Any, state: dict[str, Any] | None = None
    ) -> None:
        # Batching streams (`take`) ack without passing the state back: keep our own start times.
        started = self._event_started_at.pop((id(stream), tp.topic, tp.partition, offset), None)
        if started is not None:
            agent = stream.prefix or "stream"
            metrics.AGENT_PROCESSING.labels(agent, tp.topic).observe(monotonic() - started)
        log_context.ticket_id.set(None)

    def on_rebalance_start(self, app: Any) -> dict[str, Any]:
        self._event_started_at.clear()  # events of revoked partitions will never be acknowledged
        state: dict[str, Any] = super().on_rebalance_start(app)
        return state

    def on_send_initiated(self, producer: Any, topic: str, message: Any, keysize: int, valsize: int) -> str:
        metrics.AGENT_EVENTS.labels(log_context.agent.get() or "none", topic, "out").inc()
        if topic == self._rejected:
            reason = _field(message.value, "reason")
            metrics.INTAKE_REJECTIONS.labels(reason if reason in _REASONS else "other").inc()
        elif topic == self._alerts:
            kind, severity = _field(message.value, "kind"), _field(message.value, "severity")
            metrics.ALERTS_RAISED.labels(
                kind if kind in _KINDS else "other", severity if severity in _SEVERITIES else "other"
            ).inc()
        return topic  # handed back to on_send_error

    def on_send_error(self, producer: Any, exc: BaseException, state: Any) -> None:
        metrics.SEND_ERRORS.labels(state if isinstance(state, str) else "unknown").inc()


def _field(value: Any, name: str) -> str | None:
    """One top-level string field of a JSON payload we produced; None if it is not there."""
    try:
        found = json.loads(value).get(name)
    except (TypeError, ValueError, AttributeError):
        return None
    return found if isinstance(found, str) else None


def install(app: faust.App, names: TopicNames) -> OpsSensor:
    sensor = OpsSensor(names)
    app.sensors.add(sensor)
    return sensor
