"""Alerts the domain raises; ids derive from their cause so a replay raises nothing new."""

from __future__ import annotations

import hashlib
from datetime import datetime

from schemas.alerts import Alert
from schemas.events import CommandRejected


def command_alert(event: CommandRejected) -> Alert:
    """A command that did not fit the ticket's state."""
    return Alert(
        alert_id=f"rejected:{event.event_id}",
        kind="command_rejected",
        severity="warning",
        ticket_id=event.ticket_id,
        message=f"工单 {event.ticket_id} 的指令 {event.command_type} 被拒绝：{event.reason}",
        raised_at=event.occurred_at,
        details={"command_id": event.command_id, "reason": event.reason},
    )


def undecodable_alert(raw: bytes, error: str, now: datetime) -> Alert:
    """A command that is not valid JSON of the contract: a writer's bug, shown to ops."""
    digest = hashlib.sha256(raw).hexdigest()[:16]
    return Alert(
        alert_id=f"undecodable:{digest}",
        kind="undecodable_command",
        severity="critical",
        message="tickets.commands 上收到无法解析的指令",
        raised_at=now,
        details={"error": error[:500], "sha256_16": digest},
    )
