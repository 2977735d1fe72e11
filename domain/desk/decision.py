"""The operator's decision at the desk, which triage's yields to (issue 19).

The operator heard the caller; the router only read the text. So an answer on the line, a
transfer or a dispatch the operator chose is what happens, and the decision keeps triage's
reading in its explanation. What the operator names that this jurisdiction does not know
cannot be dispatched: the ticket goes to a person, with the reason, never to a unit that
has no topic.
"""

from __future__ import annotations

from domain.jurisdiction import Jurisdiction
from schemas.desk import DeskDecision
from schemas.triage import TriageDecision


def honour(triage: TriageDecision, desk: DeskDecision, jurisdiction: Jurisdiction) -> TriageDecision:
    """`triage` with the operator's decision in place of the router's."""
    who = f"坐席 {desk.operator}"
    read = f"（系统分拨建议：{_disposition_name(triage)}）"
    if desk.action == "answer":
        answer = desk.answer
        used = f"，依据知识库条目 {answer.entry_id}" if answer is not None and answer.entry_id else ""
        return _with(
            triage,
            disposition="instant",
            lead=None,
            co=(),
            transfer_to=None,
            why=f"{who}当场答复（即办）{used}{read}",
        )
    if desk.action == "transfer":
        return _with(
            triage,
            disposition="transfer",
            lead=None,
            co=(),
            transfer_to=desk.transfer_to,
            why=f"{who}转 {desk.transfer_to}{read}",
        )
    return _dispatch(triage, desk, jurisdiction, who, read)


def _dispatch(
    triage: TriageDecision, desk: DeskDecision, jurisdiction: Jurisdiction, who: str, read: str
) -> TriageDecision:
    category = desk.category or triage.category
    town = desk.town or triage.town
    urgency = desk.urgency or triage.urgency
    lead: str | None
    co: tuple[str, ...]
    if desk.lead:
        lead, co = desk.lead, desk.co
    else:
        route = jurisdiction.route(category, town) if category in jurisdiction.category_by_code else None
        default_lead = triage.lead or triage.suggested_lead
        lead = route.lead if route and (desk.category or desk.town) else default_lead
        co = route.co if route and (desk.category or desk.town) else (triage.co or triage.suggested_co)
        co = desk.co or co
    unknown = _unknown(jurisdiction, lead, co, category, town)
    decided = triage.model_copy(update={"category": category, "town": town, "urgency": urgency})
    if unknown or lead is None:
        reason = f"{who}派单，但{unknown or '未定主办单位'}：转人工派单"
        return _with(
            decided,
            disposition="manual",
            lead=None,
            co=(),
            transfer_to=None,
            why=reason,
            suggested_lead=lead if not unknown else decided.suggested_lead,
        )
    corrected = _corrections(triage, desk)
    return _with(
        decided,
        disposition="dispatch",
        lead=lead,
        co=tuple(u for u in co if u != lead),
        transfer_to=None,
        why=f"{who}派单{corrected}{read}",
    )


def unknown_codes(
    jurisdiction: Jurisdiction,
    lead: str | None = None,
    co: tuple[str, ...] = (),
    category: str | None = None,
    town: str | None = None,
) -> dict[str, tuple[str, ...]]:
    """Per field the operator may name (lead, co, category, town), the codes this jurisdiction
    does not know; a field with none is left out."""
    units = set(jurisdiction.unit_codes)
    found = {
        "lead": tuple(u for u in (lead,) if u and u not in units),
        "co": tuple(u for u in co if u not in units),
        "category": tuple(c for c in (category,) if c and c not in jurisdiction.category_by_code),
        "town": tuple(t for t in (town,) if t and t not in jurisdiction.town_by_code),
    }
    return {field: codes for field, codes in found.items() if codes}


def _unknown(
    jurisdiction: Jurisdiction, lead: str | None, co: tuple[str, ...], category: str, town: str | None
) -> str:
    unknown = unknown_codes(jurisdiction, lead, co, category, town)
    units = (*unknown.get("lead", ()), *unknown.get("co", ()))
    missing = [f"单位 {u} 不在本辖区" for u in units]
    missing += [f"类别 {c} 不在本辖区" for c in unknown.get("category", ())]
    missing += [f"属地 {t} 不在本辖区" for t in unknown.get("town", ())]
    return "；".join(missing)


def _corrections(triage: TriageDecision, desk: DeskDecision) -> str:
    named = {"主办单位": desk.lead, "类别": desk.category, "属地": desk.town, "紧急程度": desk.urgency}
    changed = [what for what, value in named.items() if value]
    if desk.co:
        changed.append("协办单位")
    return f"（更正了{'、'.join(changed)}）" if changed else "（采纳系统建议）"


def _disposition_name(triage: TriageDecision) -> str:
    names = {"instant": "即办", "transfer": "转办", "dispatch": "派单", "manual": "待人工派单"}
    lead = f"，主办 {triage.lead}" if triage.lead else ""
    return f"{names[triage.disposition]}{lead}"


def _with(triage: TriageDecision, *, why: str, **changes: object) -> TriageDecision:
    return triage.model_copy(update=changes | {"explanation": (*triage.explanation, why)})


__all__ = ["honour", "unknown_codes"]
