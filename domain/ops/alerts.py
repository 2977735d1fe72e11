"""Ops alerts for the alerts topic: a consumer group falling behind, the ticket store failing.

Alert ids name the cause and the time window they fall in, so every poll within one window
(and every worker that raises the same alert in it) produces the same id: the control room
shows it once. A condition that lasts raises a new alert per window, as a reminder.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.ops.lag import TopicLag
from schemas.alerts import Alert, Severity


@dataclass(frozen=True, slots=True)
class LagThresholds:
    """When a topic's lag for a group warns and when it is critical, in messages or seconds."""

    warn_messages: int = 1_000
    critical_messages: int = 10_000
    warn_seconds: float = 60.0
    critical_seconds: float = 300.0
    window_s: int = 300


def window_start(now: datetime, window_s: int) -> datetime:
    """The start of the fixed window (aligned on the Unix epoch, UTC) that `now` falls in."""
    epoch_s = int(now.timestamp())
    return datetime.fromtimestamp(epoch_s - epoch_s % window_s, tz=UTC)


def _window_label(now: datetime, window_s: int) -> str:
    return window_start(now, window_s).strftime("%Y%m%dT%H%M%SZ")


def lag_severity(lag: TopicLag, thresholds: LagThresholds) -> Severity | None:
    """The worse of the two measures; None when the topic is within both thresholds."""
    seconds = lag.seconds or 0.0
    if lag.messages >= thresholds.critical_messages or seconds >= thresholds.critical_seconds:
        return "critical"
    if lag.messages >= thresholds.warn_messages or seconds >= thresholds.warn_seconds:
        return "warning"
    return None


def ops_alert_key(alert: Alert) -> str:
    """The Kafka key of an ops alert: one topic's lag alerts stay in order on one partition."""
    if alert.kind == "lag":
        return f"lag:{alert.details['group']}:{alert.details['topic']}"
    return alert.kind


def lag_alerts(lags: Iterable[TopicLag], thresholds: LagThresholds, now: datetime) -> list[Alert]:
    """One alert per lagging group and topic, with an id stable within the window."""
    alerts = []
    window = _window_label(now, thresholds.window_s)
    for lag in lags:
        severity = lag_severity(lag, thresholds)
        if severity is None:
            continue
        age = "未知" if lag.seconds is None else f"{lag.seconds:.0f} 秒"
        alerts.append(
            Alert(
                alert_id=f"lag:{lag.group}:{lag.topic}:{severity}:{window}",
                kind="lag",
                severity=severity,
                message=(
                    f"消费组 {lag.group} 在 {lag.topic} 上积压 {lag.messages} 条，最早未处理消息已等待 {age}"
                ),
                raised_at=now,
                details={
                    "group": lag.group,
                    "topic": lag.topic,
                    "lag_messages": str(lag.messages),
                    "lag_seconds": "" if lag.seconds is None else f"{lag.seconds:.1f}",
                },
            )
        )
    return alerts


@dataclass(frozen=True, slots=True)
class StoreErrorThresholds:
    """How many failed writes to PostgreSQL within one poll raise an alert, and its window."""

    min_errors: int = 1
    critical_errors: int = 10
    window_s: int = 300


def store_error_alert(errors: int, thresholds: StoreErrorThresholds, now: datetime) -> Alert | None:
    """An alert when the ticket store failed `errors` times since the last poll."""
    if errors < thresholds.min_errors:
        return None
    severity: Severity = "critical" if errors >= thresholds.critical_errors else "warning"
    window = _window_label(now, thresholds.window_s)
    return Alert(
        alert_id=f"store_errors:{severity}:{window}",
        kind="store_errors",
        severity=severity,
        message=f"工单库 (PostgreSQL) 写入失败 {errors} 次，事件入库暂停并重试中",
        raised_at=now,
        details={"errors": str(errors)},
    )
