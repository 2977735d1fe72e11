"""Lag and store-error alerts: thresholds, and ids that stay the same within a window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.ops.alerts import (
    LagThresholds,
    StoreErrorThresholds,
    lag_alerts,
    lag_severity,
    ops_alert_key,
    store_error_alert,
    window_start,
)
from domain.ops.lag import TopicLag

NOW = datetime(2026, 3, 2, 1, 17, 30, tzinfo=UTC)
THRESHOLDS = LagThresholds()  # 1000 / 10000 messages, 60 / 300 seconds, 5-minute windows


@pytest.mark.parametrize(
    ("messages", "seconds", "severity"),
    [
        (0, 0.0, None),
        (999, 59.9, None),
        (1000, 0.0, "warning"),
        (5, 60.0, "warning"),
        (9_999, 299.0, "warning"),
        (10_000, 0.0, "critical"),
        (3, 300.0, "critical"),
        (2_000, None, "warning"),  # age unknown: judged on messages alone
    ],
)
def test_lag_severity_is_the_worse_of_messages_and_seconds(
    messages: int, seconds: float | None, severity: str | None
) -> None:
    assert lag_severity(TopicLag("shaobao", "tickets.events", messages, seconds, 6), THRESHOLDS) == severity


def test_a_lagging_topic_raises_one_alert_with_its_figures_in_chinese() -> None:
    lags = [
        TopicLag("shaobao", "tickets.events", 1500, 75.26, 6),
        TopicLag("shaobao", "appeals.intake", 0, 0.0, 6),
    ]
    [alert] = lag_alerts(lags, THRESHOLDS, NOW)
    assert alert.alert_id == "lag:shaobao:tickets.events:warning:20260302T011500Z"
    assert (alert.kind, alert.severity, alert.ticket_id, alert.unit, alert.raised_at) == (
        "lag",
        "warning",
        None,
        None,
        NOW,
    )
    assert alert.message == "消费组 shaobao 在 tickets.events 上积压 1500 条，最早未处理消息已等待 75 秒"
    assert alert.details == {
        "group": "shaobao",
        "topic": "tickets.events",
        "lag_messages": "1500",
        "lag_seconds": "75.3",
    }
    assert ops_alert_key(alert) == "lag:shaobao:tickets.events"


def test_the_alert_id_is_stable_within_a_window_and_changes_with_the_next() -> None:
    lag = [TopicLag("shaobao", "tickets.events", 20_000, 10.0, 6)]
    start = window_start(NOW, 300)
    assert start == datetime(2026, 3, 2, 1, 15, tzinfo=UTC)
    ids = {lag_alerts(lag, THRESHOLDS, start + timedelta(seconds=s))[0].alert_id for s in (0, 100, 299)}
    assert ids == {"lag:shaobao:tickets.events:critical:20260302T011500Z"}
    later = lag_alerts(lag, THRESHOLDS, start + timedelta(seconds=300))[0].alert_id
    assert later == "lag:shaobao:tickets.events:critical:20260302T012000Z"


def test_a_lag_of_unknown_age_says_so() -> None:
    [alert] = lag_alerts([TopicLag("g", "t", 5_000, None, 6)], THRESHOLDS, NOW)
    assert alert.message.endswith("已等待 未知") and alert.details["lag_seconds"] == ""


@pytest.mark.parametrize(
    ("errors", "severity"), [(0, None), (1, "warning"), (9, "warning"), (10, "critical")]
)
def test_store_errors_since_the_last_poll_raise_an_alert(errors: int, severity: str | None) -> None:
    alert = store_error_alert(errors, StoreErrorThresholds(), NOW)
    if severity is None:
        assert alert is None
        return
    assert alert is not None
    assert (alert.kind, alert.severity, alert.details) == ("store_errors", severity, {"errors": str(errors)})
    assert alert.alert_id == f"store_errors:{severity}:20260302T011500Z"
    assert ops_alert_key(alert) == "store_errors"
