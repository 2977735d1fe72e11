"""The explanation a person reads: which words, places and rules decided the triage, in Chinese."""

from __future__ import annotations

from collections.abc import Sequence

from domain.jurisdiction import Jurisdiction
from domain.triage.classify import TypeReading
from domain.triage.matching import Score
from domain.triage.places import TownFinding
from domain.triage.urgency import UrgencyFinding
from domain.triage.verdict import Verdict

_TYPE_NAMES = {
    "consult": "咨询",
    "help": "求助",
    "complaint": "投诉",
    "report": "举报",
    "suggestion": "建议",
    "praise": "表扬",
}
_URGENCY_NAMES = {"normal": "一般", "urgent": "紧急", "emergency": "特急"}
_RESOLUTION_NAMES = {
    "address": "地址栏",
    "text": "诉求内容",
    "landmark": "地标",
    "place": "村（社区）",
    "town_name": "镇街名称",
    "coordinates": "定位坐标",
}


def _words(hits: Sequence[str], limit: int = 6) -> str:
    return "、".join(f"“{hit}”" for hit in hits[:limit])


def category_line(
    jurisdiction: Jurisdiction, best: Score, runner_up: Score | None, verdict: Verdict | None = None
) -> str:
    """Why this category: its words, the closest other category, and what the model said."""
    note = f"；{verdict.note}" if verdict is not None and verdict.note else ""
    if verdict is not None and best.value > 0 and verdict.category != best.label:
        name = jurisdiction.category_by_code[verdict.category].name
        lexicon = (
            f"词表首选{jurisdiction.category_by_code[best.label].name}" if best.value > 0 else "词表未命中"
        )
        return f"分类：{name}（{verdict.category}），{lexicon}{note}"
    if best.value <= 0:
        return "分类：未命中任何分类词语，须人工判断" + note
    name = jurisdiction.category_by_code[best.label].name
    line = f"分类：{name}（{best.label}），命中{_words(best.hits) or '无关键词'}，得分{best.value:g}"
    if runner_up is not None and runner_up.value > 0:
        other = jurisdiction.category_by_code[runner_up.label].name
        line += f"；其次为{other}（{runner_up.value:g}分）"
    return line + note


def type_line(reading: TypeReading) -> str:
    """Why this appeal type: its words, the model's probability and the confidence, else the usual type."""
    appeal_type, model = reading.score, reading.model
    name = _TYPE_NAMES.get(appeal_type.label, appeal_type.label)
    sure = f"，把握{reading.confidence:.2f}" if reading.ranked else ""
    doubt = f"；可能为举报（{reading.doubt}），来电人按举报人保护" if reading.doubt else ""
    return _type_reasons(name, appeal_type.hits, model, sure) + doubt


def _type_reasons(name: str, hits: Sequence[str], model: float | None, sure: str) -> str:
    said = f"统计模型{model:.2f}" if model is not None else ""
    if hits:
        return f"诉求类型：{name}，命中{_words(hits)}" + (f"，{said}" if said else "") + sure
    if said:
        return f"诉求类型：{name}（未见明确表述，{said}，参考该分类常见类型{sure}）"
    return f"诉求类型：{name}（未见明确表述，按该分类常见类型）"


def caller_line(reading: TypeReading, declared: bool = False) -> str | None:
    """For a report, or what may be one, or a caller the hotline declared confidential: the
    caller is kept from the units (None otherwise)."""
    if declared:
        return "来电人身份：保密（热线已声明保密，不向承办单位提供来电人信息）"
    if reading.label == "report":
        return "来电人身份：保密（举报，不向承办单位提供来电人信息）"
    if reading.doubt:
        return "来电人身份：保密（不确定是否为举报，按举报人保护，不向承办单位提供来电人信息）"
    return None


def second_line(jurisdiction: Jurisdiction, second: Score) -> str:
    """A second problem in the same appeal, for a person to split off."""
    name = jurisdiction.category_by_code[second.label].name
    return f"另有诉求：{name}（{second.label}），命中{_words(second.hits, 4)}；请拆分另立工单，勿遗漏"


def town_line(jurisdiction: Jurisdiction, finding: TownFinding) -> str:
    """Where, and how we know; or why the town stays unknown."""
    if finding.town is not None:
        town = jurisdiction.unit_name(finding.town)
        how = _RESOLUTION_NAMES.get(finding.resolution, finding.resolution)
        return f"属地：{town}，依据{_words(finding.evidence)}（{how}）"
    if finding.resolution == "ambiguous":
        towns = "、".join(jurisdiction.unit_name(code) for code in finding.candidates)
        return f"属地未定：{_words(finding.evidence)}同时属于{towns}，文中没有可区分的信息"
    return "属地未定：地址和内容中没有可识别的镇街、村（社区）或地标"


def urgency_line(finding: UrgencyFinding) -> str:
    """The urgency, the danger signs that raised it, how sure, and whether it was raised from caution."""
    name = _URGENCY_NAMES[finding.urgency]
    sure = f"，把握{finding.confidence:.2f}"
    if finding.caution:
        return f"紧急程度：{name}（从严：{finding.caution}，按紧急处理）{sure}"
    if finding.signs:
        return f"紧急程度：{name}，依据{_words(finding.signs)}{sure}"
    return f"紧急程度：{name}（分类默认）{sure}"


def route_line(jurisdiction: Jurisdiction, lead: str, co: Sequence[str]) -> str:
    """The units the routing table names."""
    line = f"派单：{jurisdiction.unit_name(lead)}牵头"
    if co:
        line += "，" + "、".join(jurisdiction.unit_name(code) for code in co) + "协办"
    return line + "（按路由表）"
