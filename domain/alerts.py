"""Alerts the domain raises; ids derive from their cause so a replay raises nothing new."""

from __future__ import annotations

import hashlib
from datetime import datetime

from domain.decide import Refusal
from schemas.alerts import Alert
from schemas.events import CommandRejected


def command_alert(event: CommandRejected) -> Alert:
    """A command that did not fit the ticket's state, or that its sender may not give (security)."""
    security = event.violation == "authorization"
    who = f"（{event.actor}）" if event.actor else ""
    details = {"command_id": event.command_id, "reason": event.reason, "violation": event.violation}
    return Alert(
        alert_id=f"rejected:{event.event_id}",
        kind="security" if security else "command_rejected",
        severity="critical" if security else "warning",
        ticket_id=event.ticket_id,
        unit=_unit_of(event.actor),
        message=(
            f"越权操作{who}：工单 {event.ticket_id} 的指令 {event.command_type} 被拒绝：{event.reason}"
            if security
            else f"工单 {event.ticket_id} 的指令 {event.command_type}{who} 被拒绝：{event.reason}"
        ),
        raised_at=event.occurred_at,
        details=details | ({"actor": event.actor} if event.actor else {}),
    )


def refusal_alert(refused: Refusal, now: datetime) -> Alert:
    """A command for a ticket that does not exist: a unit doing so is a security matter."""
    security = refused.violation == "authorization"
    actor = refused.actor
    return Alert(
        alert_id=f"refused:{refused.command_id}",
        kind="security" if security else "command_rejected",
        severity="critical" if security else "warning",
        ticket_id=refused.ticket_id,
        unit=_unit_of(actor),
        message=(
            f"指令 {refused.command_type}（{actor or '未知'}）针对不存在的工单 "
            f"{refused.ticket_id}：{refused.reason}"
        ),
        raised_at=now,
        details={"command_id": refused.command_id, "reason": refused.reason, "violation": refused.violation}
        | ({"actor": actor} if actor else {}),
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


def undecodable_action_alert(unit: str, raw: bytes, error: str, now: datetime) -> Alert:
    """A unit's action that is not valid for the contract: the unit's system needs fixing."""
    digest = hashlib.sha256(raw).hexdigest()[:16]
    return Alert(
        alert_id=f"undecodable-action:{unit}:{digest}",
        kind="undecodable_command",
        severity="warning",
        unit=unit,
        message=f"承办单位 {unit} 的操作无法解析，已忽略，请该单位检查其系统",
        raised_at=now,
        details={"error": error[:500], "sha256_16": digest},
    )


def _unit_of(actor: str | None) -> str | None:
    """Control-room actors are `<role>:<operator>`; a bare code is a unit."""
    return actor if actor is not None and ":" not in actor else None
