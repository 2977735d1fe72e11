"""Alerts for time limits and whistles: raised by the ticket agent as it records each mark
or whistle, so each is alerted once; ids derive from the event."""

from __future__ import annotations

from schemas.alerts import Alert, AlertKind, Severity
from schemas.events import LimitAtRisk, LimitOverdue, TicketEvent, TicketSupervised, WhistleBlown
from schemas.limits import ClockKind

_CLOCK_NAMES = {
    ClockKind.SIGN: "签收",
    ClockKind.ON_SCENE: "到场",
    ClockKind.COMPLETE: "办结",
    ClockKind.CALLBACK: "回访",
    ClockKind.REPORT_IN: "报到",
}
_MARKED: dict[type, tuple[AlertKind, Severity, str]] = {
    LimitAtRisk: ("at_risk", "warning", "即将超期"),
    LimitOverdue: ("overdue", "critical", "已超期"),
    TicketSupervised: ("supervise", "critical", "超期转督办"),
}


def timing_alerts(events: tuple[TicketEvent, ...]) -> tuple[Alert, ...]:
    """One alert per mark reached (预警, 超期, 督办) and per whistle blown among `events`."""
    return tuple(alert for event in events if (alert := _alert(event)) is not None)


def _alert(event: TicketEvent) -> Alert | None:
    if isinstance(event, LimitAtRisk | LimitOverdue | TicketSupervised):
        kind, severity, words = _MARKED[type(event)]
        who = f"（{event.unit}）" if event.unit else ""
        return Alert(
            alert_id=f"{kind}:{event.event_id}",
            kind=kind,
            severity=severity,
            ticket_id=event.ticket_id,
            unit=event.unit,
            message=f"工单 {event.ticket_id} {_CLOCK_NAMES[event.kind]}时限{words}{who}",
            raised_at=event.occurred_at,
            details={
                "clock": event.clock,
                "limit_version": str(event.limit_version),
                "due_at": event.due_at.isoformat(),
                "mark_at": event.mark_at.isoformat(),
            },
        )
    if isinstance(event, WhistleBlown):
        return Alert(
            alert_id=f"whistle:{event.event_id}",
            kind="whistle",
            severity="info",
            ticket_id=event.ticket_id,
            unit=event.town,
            message=f"{event.town} 吹哨：{'、'.join(event.units)} 须报到（{event.reason}）",
            raised_at=event.occurred_at,
            details={
                "whistle_id": event.whistle_id,
                "trigger": event.trigger,
                "units": ",".join(event.units),
            },
        )
    return None
