"""Work orders on `units.<unit>.orders`: what a unit needs to act, and no more."""

from __future__ import annotations

from typing import Literal

from schemas.appeal import Caller
from schemas.base import AwareDatetime, WireModel
from schemas.triage import AppealTypeCode, Urgency


class WorkOrder(WireModel):
    """One unit's copy of a dispatched ticket. The caller is masked; reports carry no caller."""

    schema_version: Literal[1] = 1
    order_id: str
    kind: Literal["order"] = "order"
    ticket_id: str
    unit: str
    role: Literal["lead", "co"]
    lead: str
    co: tuple[str, ...]
    appeal_type: AppealTypeCode
    category: str
    category_name: str
    urgency: Urgency
    town: str | None
    town_name: str | None
    text: str
    address: str
    caller: Caller | None
    received_at: AwareDatetime
    dispatched_at: AwareDatetime
