"""The desk's JSON: triage, knowledge-base answers and a caller's history, with names for people.

Codes stay beside the names (the page sends codes back when the operator corrects a dispatch);
every name is the jurisdiction's. The browser puts each value in with `textContent`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain.desk import is_repeat_caller
from domain.jurisdiction import Jurisdiction
from schemas.appeal import CHANNELS
from schemas.desk import TRANSFER_TARGETS
from schemas.kb import KbMatch
from schemas.triage import TriageDecision
from web.names import STATUS_NAMES
from web.ports import CallerTicket

URGENCY = {"normal": "一般", "urgent": "紧急", "emergency": "特急"}
DISPOSITION = {"instant": "当场答复（即办）", "transfer": "转办", "dispatch": "派单", "manual": "转人工派单"}
OUTCOME = {
    "satisfied": "满意",
    "basically_satisfied": "基本满意",
    "no_comment": "不作评价",
    "dissatisfied": "不满意",
    "unreachable": "未联系上",
}
CHANNEL = {
    "phone": "电话",
    "web": "网站",
    "wechat": "微信",
    "app": "手机应用",
    "sms": "短信",
    "mailbox": "市长信箱",
    "transfer_110": "110 转来",
    "hotline_12369": "12369 转来",
}
TRANSFER = {"110": "110 公安", "119": "119 消防", "120": "120 急救", "12369": "12369 环保"}


def named(code: str | None, names: dict[str, str]) -> dict[str, str] | None:
    return None if code is None else {"code": code, "name": names.get(code, code)}


def triage_json(decision: TriageDecision, jurisdiction: Jurisdiction) -> dict[str, Any]:
    """Triage as the operator reads it; for a manual disposition, the best guess's units."""
    units = {code: jurisdiction.unit_name(code) for code in jurisdiction.unit_codes}
    types = {t.code: t.name for t in jurisdiction.appeal_types}
    categories = {c.code: c.name for c in jurisdiction.categories}
    towns = {t.code: t.name for t in jurisdiction.towns}
    manual = decision.disposition == "manual"
    lead = decision.suggested_lead if manual else decision.lead
    co = decision.suggested_co if manual else decision.co
    return {
        "category": named(decision.category, categories),
        "appeal_type": named(decision.appeal_type, types),
        "urgency": named(decision.urgency, URGENCY),
        "town": named(decision.town, towns),
        "town_candidates": [named(code, towns) for code in decision.town_candidates],
        "disposition": named(decision.disposition, DISPOSITION),
        "lead": named(lead, units),
        "co": [named(code, units) for code in co],
        "lead_suggested": manual,
        "transfer_to": named(decision.transfer_to, TRANSFER),
        "confidence": decision.confidence,
        "explanation": list(decision.explanation),
        "suggestion": list(decision.suggestion),
        "second_category": named(decision.second_category, categories),
    }


def kb_json(match: KbMatch, jurisdiction: Jurisdiction) -> dict[str, Any]:
    """A knowledge-base match as the desk and `GET /api/kb/search` show it: unit by name too."""
    entry = match.entry
    return {
        "entry_id": entry.entry_id,
        "title": entry.title,
        "unit": entry.unit,
        "unit_name": jurisdiction.unit_name(entry.unit),
        "answer": entry.answer,
        "source": entry.source.cited(),
        "score": match.score,
        "why": list(match.why),
        "current": match.current,
    }


def history_json(
    tickets: Sequence[CallerTicket], jurisdiction: Jurisdiction, now: datetime
) -> dict[str, Any]:
    """The caller's tickets, whether this is a repeat call (重复来电), and the last satisfaction."""
    categories = {c.code: c.name for c in jurisdiction.categories}
    rated = next((t.satisfaction for t in tickets if t.satisfaction), None)
    return {
        "tickets": [
            {
                "ticket_id": t.ticket_id,
                "received_at": t.received_at.isoformat(),
                "category": named(t.category, categories),
                "status": named(t.status, STATUS_NAMES),
                "last_callback": named(t.last_callback, OUTCOME),
            }
            for t in tickets
        ],
        "repeat_call": is_repeat_caller((t.received_at for t in tickets), now),
        "last_satisfaction": named(rated, OUTCOME),
    }


def reference_json(jurisdiction: Jurisdiction) -> dict[str, Any]:
    """What the desk's selects list: names, in the jurisdiction's order."""
    return {
        "jurisdiction": jurisdiction.jurisdiction.name,
        "channels": [{"code": c, "name": CHANNEL[c]} for c in CHANNELS],
        "units": [{"code": u.code, "name": u.name} for u in jurisdiction.units],
        "categories": [{"code": c.code, "name": c.name} for c in jurisdiction.categories],
        "towns": [{"code": t.code, "name": t.name} for t in jurisdiction.towns],
        "urgencies": [{"code": code, "name": name} for code, name in URGENCY.items()],
        "transfer_targets": [{"code": code, "name": TRANSFER[code]} for code in TRANSFER_TARGETS],
    }
