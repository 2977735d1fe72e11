"""Alerts the sink raises when PostgreSQL goes away and when it is back.

Ids derive from the first event of the held batch, so a worker restarted mid-outage
raises the same alert again (one alert downstream), and the next outage raises a new one.
"""

from __future__ import annotations

from datetime import datetime

from schemas.alerts import Alert

ALERT_KEY = "store_errors"  # the Kafka key: the store's alerts stay in order on one partition


def store_down_alert(held_from: str, error: str, now: datetime) -> Alert:
    """PostgreSQL cannot be written: the sink holds its batch and consumes nothing more."""
    return Alert(
        alert_id=f"store-down:{held_from}",
        kind="store_errors",
        severity="critical",
        message="工单库 (PostgreSQL) 无法写入：事件入库已暂停，恢复后自动补录，不丢不重",
        raised_at=now,
        details={"held_from": held_from, "error": error[:500]},
    )


def store_back_alert(held_from: str, attempts: int, down_since: datetime, now: datetime) -> Alert:
    """PostgreSQL took the held batch: the sink catches up from there."""
    seconds = (now - down_since).total_seconds()
    return Alert(
        alert_id=f"store-back:{held_from}",
        kind="store_errors",
        severity="info",
        message=f"工单库 (PostgreSQL) 已恢复：中断约 {seconds:.0f} 秒，重试 {attempts} 次后继续入库",
        raised_at=now,
        details={"held_from": held_from, "attempts": str(attempts), "down_s": f"{seconds:.1f}"},
    )
