"""Alerts the domain raises; ids derive from their cause so a replay raises nothing new."""

from __future__ import annotations

from datetime import datetime

from domain.ticket.decide import Refusal
from schemas.alerts import Alert
from schemas.dead_letters import DeadLetter, DeadLetterReason
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


def _unit_of(actor: str | None) -> str | None:
    """Control-room actors are `<role>:<operator>`; a bare code is a unit."""
    return actor if actor is not None and ":" not in actor else None


# What each agent does, as the people reading alerts know it.
AGENT_NAMES = {
    "take_in_appeals": "诉求受理",
    "handle_ticket_commands": "工单指令处理",
    "take_in_unit_actions": "承办单位操作受理",
    "fan_out_work_orders": "工单派发",
    "record_ticket_events": "工单入库",
    "record_rejections": "拒收记录入库",
    "record_dead_letters": "死信入库",
    "index_ticket_clocks": "时限跟踪",
    "signal_clusters": "多人反映识别",
    "detect_clusters": "多人反映合并",
}
REASON_NAMES: dict[DeadLetterReason, str] = {
    "undecodable": "无法解析",
    "contract_violation": "不符合接口规范",
    "unfoldable": "与工单记录不衔接",
    "unstorable": "数据库无法保存",
    "too_large": "处理结果超过消息大小上限",
    "processing_error": "处理出错（程序缺陷）",
}


def dead_letter_alert(letter: DeadLetter, unit: str | None = None) -> Alert:
    """A message set aside on `dead.letters`: ops look at it, fix the cause and replay it.

    `unit`: the unit whose message it was (its actions topic), told to check its system."""
    agent = AGENT_NAMES.get(letter.agent, letter.agent)
    return Alert(
        alert_id=f"dead:{letter.dead_letter_id}",
        kind="dead_letter",
        severity="critical",
        unit=unit,
        message=(
            ("该承办单位发来的操作不符合接口规范，请检查其系统。" if unit else "")
            + f"{agent}无法处理一条消息（{REASON_NAMES[letter.reason]}），已转入死信队列，"
            f"其余消息照常处理：{letter.source.topic} 分区 {letter.source.partition} "
            f"位置 {letter.source.offset}"
        ),
        raised_at=letter.dead_at,
        details={
            "dead_letter_id": letter.dead_letter_id,
            "agent": letter.agent,
            "reason": letter.reason,
            "error_class": letter.error_class,
            "error": letter.error[:500],
        },
    )
