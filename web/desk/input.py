"""What the desk sends, checked: the appeal an operator took, with their decision, or why not.

The body is checked field by field and each problem is named in Chinese for the operator
(422), or, for characters the store cannot hold, 400 (`web.inputs.UNSTORABLE_CODE`). The
operator is who the session says, never what the body says; the source id is new per appeal.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from domain.desk import phone_digits, unknown_codes
from domain.jurisdiction import Jurisdiction
from schemas.appeal import Appeal
from schemas.base import UNSTORABLE, escape_refused, is_unstorable
from web.inputs import UNSTORABLE_CODE

BODY_FIELDS = frozenset({"channel", "caller", "address", "text", "decision"})
DECISION_FIELDS = frozenset({"action", "answer", "lead", "co", "category", "town", "urgency", "transfer_to"})
DISPATCH_ONLY = ("lead", "co", "category", "town", "urgency")
PHONE_RULE = "来电号码只能包含数字、+、-、空格，长度 5–20 位"
LABELS = {
    "channel": "受理渠道",
    "caller": "来电人",
    "caller.name": "来电人姓名",
    "caller.phone": "来电号码",
    "address": "地址",
    "text": "诉求内容",
    "decision": "处理方式",
    "decision.action": "处理方式",
    "decision.answer": "答复",
    "decision.answer.text": "答复内容",
    "decision.answer.entry_id": "知识库条目",
    "decision.answer.source": "政策依据",
    "decision.lead": "主办单位",
    "decision.co": "协办单位",
    "decision.category": "类别",
    "decision.town": "属地",
    "decision.urgency": "紧急程度",
    "decision.transfer_to": "转办去向",
}


class DeskRefused(Exception):
    """The body is not taken: 422 (or 400 for characters the store cannot hold), each field and why."""

    def __init__(self, status: int, code: str, fields: tuple[tuple[str, str], ...]) -> None:
        super().__init__(code)
        self.status, self.code, self.fields = status, code, fields

    def body(self) -> dict[str, Any]:
        message = "；".join(f"{LABELS.get(field, field)}：{why}" for field, why in self.fields)
        return {
            "error": self.code,
            "message": f"未能受理：{message}",
            "fields": [{"field": field, "message": why} for field, why in self.fields],
        }


def desk_appeal(body: object, operator: str, jurisdiction: Jurisdiction, now: datetime) -> Appeal:
    """The appeal `body` describes, taken by `operator` now; raises `DeskRefused`."""
    if not isinstance(body, dict):
        raise DeskRefused(422, "invalid_appeal", (("(body)", "请求体须是 JSON 对象"),))
    decision = body.get("decision")
    problems = list(_shape(body, decision))
    if not problems and isinstance(decision, dict):
        problems += _consistency(decision) + _known_codes(decision, jurisdiction)
    if problems:
        raise DeskRefused(422, "invalid_appeal", tuple(problems))
    assert isinstance(decision, dict)  # noqa: S101 - `_shape` said so
    data = {key: value for key, value in body.items() if key != "decision"}
    data |= {
        "channel": body.get("channel", "phone"),
        "source_id": f"desk-{uuid.uuid4()}",
        "received_at": now,
        "desk": {**decision, "operator": operator},
    }
    try:
        return Appeal.model_validate(data, context={"now": now})
    except ValidationError as exc:
        if is_unstorable(exc):
            found = tuple(_problem(e) for e in exc.errors() if e["type"] == UNSTORABLE)
            raise DeskRefused(400, UNSTORABLE_CODE, found) from None
        raise DeskRefused(422, "invalid_appeal", tuple(_problem(e) for e in exc.errors())) from None


def _shape(body: dict[str, Any], decision: object) -> Iterator[tuple[str, str]]:
    for key in sorted(set(body) - BODY_FIELDS):
        yield escape_refused(str(key)), "不是可接受的字段"
    if not isinstance(decision, dict):
        yield "decision", "必填（处理方式：当场答复、派单或转办）"
        return
    if "operator" in decision:
        yield "decision.operator", "操作员以登录身份为准，不能在请求中指定"
    for key in sorted(set(decision) - DECISION_FIELDS - {"operator"}):
        yield f"decision.{escape_refused(str(key))}", "不是可接受的字段"
    caller = body.get("caller")
    phone = caller.get("phone") if isinstance(caller, dict) else None
    if isinstance(phone, str) and phone.strip() and phone_digits(phone.strip()) is None:
        yield "caller.phone", PHONE_RULE


def _consistency(decision: dict[str, Any]) -> list[tuple[str, str]]:
    """DeskDecision's own rules, said in Chinese and naming the field to correct."""
    action = decision.get("action")
    answer = decision.get("answer")
    problems: list[tuple[str, str]] = []
    if action == "answer" and not (isinstance(answer, dict) and str(answer.get("text") or "").strip()):
        problems.append(("decision.answer.text", "当场答复须填写答复内容"))
    if action != "answer" and answer is not None:
        problems.append(("decision.answer", "只有当场答复可以附带答复内容"))
    if action == "transfer" and not decision.get("transfer_to"):
        problems.append(("decision.transfer_to", "转办须选择转办去向（110、119、120、12369）"))
    if action != "transfer" and decision.get("transfer_to"):
        problems.append(("decision.transfer_to", "只有转办可以指定转办去向"))
    if action in ("answer", "transfer"):
        problems += [(f"decision.{f}", "只有派单可以指定") for f in DISPATCH_ONLY if decision.get(f)]
    return problems


_UNKNOWN = {
    "lead": "不是本辖区的承办单位",
    "co": "含有不是本辖区的承办单位",
    "category": "不是本辖区的诉求类别",
    "town": "不是本辖区的镇街",
}


def _known_codes(decision: dict[str, Any], jurisdiction: Jurisdiction) -> list[tuple[str, str]]:
    """Units, category and town the operator corrected must be the jurisdiction's."""
    co = decision.get("co") or ()
    unknown = unknown_codes(
        jurisdiction,
        lead=_text(decision.get("lead")),
        co=tuple(c for c in co if isinstance(c, str)) if isinstance(co, list | tuple) else (),
        category=_text(decision.get("category")),
        town=_text(decision.get("town")),
    )
    return [(f"decision.{field}", _UNKNOWN[field]) for field in unknown]


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _problem(error: ErrorDetails) -> tuple[str, str]:
    path = ".".join(str(part) for part in error["loc"] if not isinstance(part, int))
    if path == "desk" or path.startswith("desk."):
        path = "decision" + path[4:]
    return escape_refused(path) or "(body)", _why(error)


def _why(error: ErrorDetails) -> str:
    """The operator's reason for one pydantic error; never the value sent (it may be a phone)."""
    ctx = error.get("ctx") or {}
    match error["type"]:
        case "missing":
            return "必填"
        case "string_too_short":
            return "不能为空"
        case "string_too_long" | "too_long":
            return f"过长（最多 {ctx.get('max_length', '')}）"
        case "literal_error":
            return f"取值无效（可选：{ctx.get('expected', '')}）"
        case "extra_forbidden":
            return "不是可接受的字段"
        case "value_error" if "blank" in str(error.get("msg", "")):
            return "不能为空白"
        case t if t == UNSTORABLE:
            return escape_refused(str(error.get("msg", "")))
        case t if t.endswith("_type") or t.endswith("_parsing"):
            return "类型不正确"
        case _:
            return "无效"
