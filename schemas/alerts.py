"""Alerts on `alerts`, keyed by ticket_id or unit: for the control room and ops."""

from __future__ import annotations

from typing import Literal

from schemas.base import AwareDatetime, WireModel

AlertKind = Literal[
    "command_rejected",
    "undecodable_command",
    "dead_letter",
    "at_risk",
    "overdue",
    "supervise",
    "security",
    "lag",
    "store_errors",
    "whistle",
    "leadership_list",
    "reference_applied",
    "reference_rejected",
]
Severity = Literal["info", "warning", "critical"]


class Alert(WireModel):
    schema_version: Literal[1] = 1
    alert_id: str
    kind: AlertKind
    severity: Severity
    ticket_id: str | None = None
    unit: str | None = None
    message: str
    raised_at: AwareDatetime
    details: dict[str, str] = {}
