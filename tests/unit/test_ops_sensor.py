"""The metering sensor and the JSON log lines it gives ticket ids to."""

from __future__ import annotations

import contextvars
import io
import json
import logging
import sys
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import cast

import pytest
from faust.types import TP, EventT, PendingMessage, ProducerT, StreamT
from faust.types.app import AppT

from agents.ops_sensor import OpsSensor
from infra.json_logs import JsonFormatter, setup_json_logging
from schemas.alerts import Alert
from schemas.events import CommandRejected, LimitOverdue
from schemas.limits import ClockKind
from streams import log_context, metrics
from streams.names import TopicNames

NAMES = TopicNames("sensor.")

# Stand-ins for what Faust hands the sensor: it reads only `stream.prefix`, `event.key` and
# `message.value` (and never the producer, the app or the acknowledged event), so a namespace
# holding those, cast to the Faust type, stands in for each.
NO_PRODUCER = cast(ProducerT, None)
NO_EVENT = cast("EventT[bytes]", None)
NO_APP = cast(AppT, SimpleNamespace())


def stream_of(agent: str) -> StreamT[bytes]:
    return cast("StreamT[bytes]", SimpleNamespace(prefix=agent))


def event_keyed(key: bytes) -> EventT[bytes]:
    return cast("EventT[bytes]", SimpleNamespace(key=key))


def message_of(value: bytes) -> PendingMessage:
    return cast(PendingMessage, SimpleNamespace(value=value))


def sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def test_an_event_is_counted_in_and_timed_through_its_agent_and_its_sends_are_counted_out() -> None:
    sensor = OpsSensor(NAMES)
    stream = stream_of("handle_ticket_commands")
    tp = TP(NAMES.commands, 2)
    labels = {"agent": "handle_ticket_commands", "topic": NAMES.commands}
    before_in = sample("shaobao_agent_events_total", **labels, direction="in")
    before_out = sample(
        "shaobao_agent_events_total", agent="handle_ticket_commands", topic=NAMES.events, direction="out"
    )
    before_timed = sample("shaobao_agent_processing_seconds_count", **labels)

    def agent_task() -> tuple[str | None, str | None]:
        sensor.on_stream_event_in(tp, 41, stream, event_keyed(b"20260302-02-000041"))
        seen = (log_context.ticket_id.get(), log_context.agent.get())
        sensor.on_send_initiated(NO_PRODUCER, NAMES.events, message_of(b"{}"), 0, 2)
        sensor.on_stream_event_out(tp, 41, stream, NO_EVENT)
        return seen

    assert contextvars.copy_context().run(agent_task) == ("20260302-02-000041", "handle_ticket_commands")
    assert sample("shaobao_agent_events_total", **labels, direction="in") == before_in + 1
    assert sample(
        "shaobao_agent_events_total", agent="handle_ticket_commands", topic=NAMES.events, direction="out"
    ) == (before_out + 1)
    assert sample("shaobao_agent_processing_seconds_count", **labels) == before_timed + 1


def test_an_event_acknowledged_after_a_rebalance_is_not_timed() -> None:
    sensor = OpsSensor(NAMES)
    stream = stream_of("record_ticket_events")
    tp = TP(NAMES.events, 0)
    labels = {"agent": "record_ticket_events", "topic": NAMES.events}
    before = sample("shaobao_agent_processing_seconds_count", **labels)
    contextvars.copy_context().run(sensor.on_stream_event_in, tp, 7, stream, event_keyed(b"x"))
    sensor.on_rebalance_start(NO_APP)
    sensor.on_stream_event_out(tp, 7, stream, NO_EVENT)
    assert sample("shaobao_agent_processing_seconds_count", **labels) == before


def test_intake_keys_are_not_taken_for_ticket_ids() -> None:
    sensor = OpsSensor(NAMES)
    stream = stream_of("take_in_appeals")

    def agent_task() -> str | None:
        sensor.on_stream_event_in(TP(NAMES.intake, 0), 1, stream, event_keyed(b"web:abc"))
        return log_context.ticket_id.get()

    assert contextvars.copy_context().run(agent_task) is None


def test_rejections_are_counted_by_reason_and_alerts_by_kind_from_what_is_produced() -> None:
    sensor = OpsSensor(NAMES)
    before_reason = sample("shaobao_intake_rejections_total", reason="too_large")
    before_other = sample("shaobao_intake_rejections_total", reason="other")
    before_alert = sample("shaobao_alerts_total", kind="command_rejected", severity="warning")
    sensor.on_send_initiated(NO_PRODUCER, NAMES.rejected, message_of(b'{"reason": "too_large"}'), 0, 0)
    sensor.on_send_initiated(NO_PRODUCER, NAMES.rejected, message_of(b"not json"), 0, 0)
    alert = Alert(
        alert_id="rejected:x:3",
        kind="command_rejected",
        severity="warning",
        message="m",
        raised_at="2026-03-02T09:15:00+08:00",
    )
    sensor.on_send_initiated(NO_PRODUCER, NAMES.alerts, message_of(alert.model_dump_json().encode()), 0, 0)
    assert sample("shaobao_intake_rejections_total", reason="too_large") == before_reason + 1
    assert sample("shaobao_intake_rejections_total", reason="other") == before_other + 1
    assert sample("shaobao_alerts_total", kind="command_rejected", severity="warning") == before_alert + 1


def test_a_failed_send_is_counted_against_its_topic() -> None:
    sensor = OpsSensor(NAMES)
    before = sample("shaobao_send_errors_total", topic=NAMES.events)
    state = sensor.on_send_initiated(NO_PRODUCER, NAMES.events, message_of(b"{}"), 0, 2)
    sensor.on_send_error(NO_PRODUCER, RuntimeError("broker gone"), state)
    assert sample("shaobao_send_errors_total", topic=NAMES.events) == before + 1


def record(message: str, **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord("agents.tickets", logging.WARNING, __file__, 1, message, (), None)
    rec.created = 1772414100.25  # 2026-03-02T01:15:00.250Z
    rec.__dict__.update(extra)
    return rec


def test_a_log_line_is_one_json_object_with_the_ticket_id_from_the_context() -> None:
    def in_agent() -> str:
        log_context.ticket_id.set("20260302-02-000041")
        log_context.agent.set("handle_ticket_commands")
        return JsonFormatter().format(record("指令被拒绝", alert_id="rejected:1"))

    line = contextvars.copy_context().run(in_agent)
    assert "\n" not in line
    assert json.loads(line) == {
        "time": "2026-03-02T01:15:00.250+00:00",
        "level": "WARNING",
        "logger": "agents.tickets",
        "message": "指令被拒绝",
        "ticket_id": "20260302-02-000041",
        "agent": "handle_ticket_commands",
        "alert_id": "rejected:1",
    }
    assert "指令被拒绝" in line  # Chinese stays readable in the file


def test_an_explicit_ticket_id_wins_and_exceptions_come_with_their_traceback() -> None:
    try:
        raise ValueError("bad state")
    except ValueError:
        rec = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    rec.ticket_id = "T-9"
    entry = contextvars.copy_context().run(lambda: json.loads(JsonFormatter().format(rec)))
    assert entry["ticket_id"] == "T-9" and "agent" not in entry
    assert entry["exception"].startswith("Traceback") and "ValueError: bad state" in entry["exception"]


def test_setup_replaces_the_root_handlers_with_json_lines() -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    out = io.StringIO()
    try:
        setup_json_logging("INFO", stream=out)
        logging.getLogger("shaobao.test").info("ready %d", 3, extra={"ticket_id": "T-1"})
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    entry = json.loads(out.getvalue())
    assert (entry["level"], entry["logger"], entry["message"], entry["ticket_id"]) == (
        "INFO",
        "shaobao.test",
        "ready 3",
        "T-1",
    )


def test_command_rejections_and_limit_marks_are_counted_from_the_ticket_events_produced(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="agents.ops_sensor")
    sensor = OpsSensor(NAMES)
    at = datetime(2026, 3, 2, 1, 15, tzinfo=UTC)
    base = {"ticket_id": "T1", "occurred_at": at, "command_id": "c"}
    rejected = CommandRejected(
        event_id="T1:4",
        version=4,
        command_type="sign_order",
        reason="已签收",
        violation="authorization",
        **base,
    )
    odd = rejected.model_copy(update={"command_type": "made_up"})
    overdue = LimitOverdue(
        event_id="T1:5",
        version=5,
        clock="complete",
        kind=ClockKind.COMPLETE,
        unit="swj",
        limit_version=2,
        due_at=at,
        mark_at=at,
        **base,
    )
    received = b'{"type": "ticket_received", "reason": "command_rejected"}'  # parsed, not counted
    labels = [
        ("shaobao_command_rejections_total", {"command_type": "sign_order", "violation": "authorization"}),
        ("shaobao_command_rejections_total", {"command_type": "other", "violation": "authorization"}),
        ("shaobao_limit_marks_total", {"mark": "overdue", "clock": "complete"}),
    ]
    before = [sample(name, **values) for name, values in labels]
    for value in (rejected, odd, overdue):
        sensor.on_send_initiated(
            NO_PRODUCER, NAMES.events, message_of(value.model_dump_json().encode()), 0, 0
        )
    sensor.on_send_initiated(NO_PRODUCER, NAMES.events, message_of(received), 0, 0)
    sensor.on_send_initiated(
        NO_PRODUCER, NAMES.commands, message_of(rejected.model_dump_json().encode()), 0, 0
    )
    assert [sample(name, **values) for name, values in labels] == [b + 1 for b in before]
    logged = [(r.levelname, r.getMessage(), getattr(r, "ticket_id", None)) for r in caplog.records]
    assert [entry for entry in logged if entry[2] == "T1"] == [
        ("WARNING", "command sign_order rejected (authorization): 已签收", "T1"),
        ("WARNING", "command other rejected (authorization): 已签收", "T1"),
        ("INFO", "limit complete of unit swj reached overdue", "T1"),
    ]
