"""A Faust sensor that meters every agent, so no agent body has to change.

Faust calls a sensor for each event a stream yields (`on_stream_event_in`), when the agent
acknowledges it (`on_stream_event_out`, the next iteration of its loop), and for every
record produced (`on_send_initiated`). The stream's `prefix` is its agent's name. The `in`
hook runs in the agent's own task, so it also sets the log context (agent, ticket id) that
the agent's log lines carry, and that its sends are attributed to. A batching agent
(`stream.take`, the sink) is fed by a background task, so its body gets no ticket id: right,
as a batch is about many tickets.
"""

from __future__ import annotations

import json
import logging
from time import monotonic
from typing import Any, get_args

import faust
from faust.types import TP, EventT, PendingMessage, ProducerT, StreamT
from faust.types.app import AppT

from schemas.alerts import AlertKind, Severity
from schemas.commands import TicketCommand
from schemas.events import Violation
from schemas.limits import ClockKind, Mark
from schemas.rejections import RejectionReason
from streams import log_context, metrics
from streams.names import TopicNames

log = logging.getLogger(__name__)
# Start times of events not yet acknowledged; a rebalance drops those of revoked partitions,
# and this cap bounds the map should acknowledgements stop arriving for another reason.
MAX_IN_FLIGHT = 100_000
_REASONS = frozenset(get_args(RejectionReason))
_KINDS = frozenset(get_args(AlertKind))
_SEVERITIES = frozenset(get_args(Severity))
_COMMAND_TYPES = frozenset(
    str(command.model_fields["type"].default) for command in get_args(get_args(TicketCommand)[0])
)
_VIOLATIONS = frozenset(get_args(Violation))
_CLOCK_KINDS = frozenset(kind.value for kind in ClockKind)
# Ticket event types the sensor counts, with the mark each limit event stands for.
_MARK_OF_EVENT = {
    "limit_at_risk": Mark.AT_RISK.value,
    "limit_overdue": Mark.OVERDUE.value,
    "ticket_supervised": Mark.SUPERVISE.value,
}
# Substrings to look for before parsing an event: most events are none of these.
_COUNTED_EVENTS = (b'"command_rejected"', b'"limit_at_risk"', b'"limit_overdue"', b'"ticket_supervised"')


class OpsSensor(faust.Sensor):
    """Counts events in and out per agent and topic, times each event through its agent,
    counts intake rejections by reason and alerts by kind from what is produced."""

    # kwargs go to mode's `Service`, which takes them untyped.
    def __init__(self, names: TopicNames, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rejected = names.rejected
        self._alerts = names.alerts
        self._events = names.events
        self._ticket_keyed = frozenset({names.commands, names.events})
        self._event_started_at: dict[tuple[int, str, int, int], float] = {}

    def on_stream_event_in(self, tp: TP, offset: int, stream: StreamT[bytes], event: EventT[bytes]) -> None:
        agent = stream.prefix or "stream"
        metrics.AGENT_EVENTS.labels(agent, tp.topic, "in").inc()
        log_context.agent.set(agent)
        key = event.key if tp.topic in self._ticket_keyed else None
        log_context.ticket_id.set(key.decode("utf-8", "replace") if isinstance(key, bytes) else None)
        if len(self._event_started_at) >= MAX_IN_FLIGHT:
            self._event_started_at.clear()
        self._event_started_at[(id(stream), tp.topic, tp.partition, offset)] = monotonic()

    def on_stream_event_out(
        self,
        tp: TP,
        offset: int,
        stream: StreamT[bytes],
        event: EventT[bytes],
        state: dict[str, object] | None = None,
    ) -> None:
        # Batching streams (`take`) ack without passing the state back: keep our own start times.
        started = self._event_started_at.pop((id(stream), tp.topic, tp.partition, offset), None)
        if started is not None:
            agent = stream.prefix or "stream"
            metrics.AGENT_PROCESSING.labels(agent, tp.topic).observe(monotonic() - started)
        log_context.ticket_id.set(None)

    def on_rebalance_start(self, app: AppT) -> dict[str, object]:
        self._event_started_at.clear()  # events of revoked partitions will never be acknowledged
        state: dict[str, object] = super().on_rebalance_start(app)
        return state

    def on_send_initiated(
        self, producer: ProducerT, topic: str, message: PendingMessage, keysize: int, valsize: int
    ) -> str:
        metrics.AGENT_EVENTS.labels(log_context.agent.get() or "none", topic, "out").inc()
        if topic == self._rejected:
            reason = _field(message.value, "reason")
            metrics.INTAKE_REJECTIONS.labels(_closed(reason, _REASONS)).inc()
        elif topic == self._alerts:
            kind, severity = _field(message.value, "kind"), _field(message.value, "severity")
            metrics.ALERTS_RAISED.labels(_closed(kind, _KINDS), _closed(severity, _SEVERITIES)).inc()
        elif topic == self._events:
            _count_ticket_event(message.value)
        return topic  # handed back to on_send_error

    def on_send_error(self, producer: ProducerT, exc: BaseException, state: object) -> None:
        metrics.SEND_ERRORS.labels(state if isinstance(state, str) else "unknown").inc()


def _count_ticket_event(value: object) -> None:
    """Command rejections by type and violation, limit marks by mark and clock kind; each
    also as a log line carrying its ticket id, for a log search by ticket."""
    if not isinstance(value, bytes) or not any(marker in value for marker in _COUNTED_EVENTS):
        return
    try:
        event = json.loads(value)
    except ValueError:
        return
    if not isinstance(event, dict):
        return
    kind, ticket = event.get("type"), {"ticket_id": event.get("ticket_id")}
    if kind == "command_rejected":
        command, violation = _closed(event.get("command_type"), _COMMAND_TYPES), event.get("violation")
        metrics.COMMAND_REJECTIONS.labels(command, _closed(violation, _VIOLATIONS)).inc()
        # The reason is the domain's own wording (e.g. "已签收"), never a citizen's text.
        log.warning("command %s rejected (%s): %s", command, violation, event.get("reason"), extra=ticket)
    elif kind in _MARK_OF_EVENT:
        mark, clock = _MARK_OF_EVENT[kind], _closed(event.get("kind"), _CLOCK_KINDS)
        metrics.LIMIT_MARKS.labels(mark, clock).inc()
        log.info("limit %s of unit %s reached %s", clock, event.get("unit") or "-", mark, extra=ticket)


def _closed(value: object, allowed: frozenset[str]) -> str:
    """A label value from a closed set: anything else is "other", never free text."""
    return value if isinstance(value, str) and value in allowed else "other"


def _field(value: object, name: str) -> str | None:
    """One top-level string field of a JSON payload we produced; None if it is not there."""
    if not isinstance(value, str | bytes | bytearray):
        return None
    try:
        found = json.loads(value).get(name)
    except (ValueError, AttributeError):
        return None
    return found if isinstance(found, str) else None


def install(app: faust.App, names: TopicNames) -> OpsSensor:
    sensor = OpsSensor(names)
    app.sensors.add(sensor)
    return sensor
