"""Work orders on `units.<unit>.orders`: what a unit needs to act, and no more."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.appeal import Caller
from schemas.base import AwareDatetime, WireModel
from schemas.limits import Clock
from schemas.triage import AppealTypeCode, Urgency

OrderKind = Literal["order", "update", "cancel", "whistle"]


class WorkOrder(WireModel):
    """One unit's copy of a dispatched ticket. The caller is masked; reports carry no caller.

    `kind`: `order` hands the unit a ticket (dispatch, redispatch to it, rework); `update`
    changes what it holds (the lead changed, a return or extension decided); `cancel` takes it
    away (redispatched elsewhere, merged, closed); `whistle` calls a unit in to report in (报到)
    to a town's whistle. `note` says why, for people.
    `dispatched_at` is when the event behind this record happened. `order_id` stays the
    idempotency key: one record per unit per ticket event.
    """

    schema_version: Literal[1] = 1
    order_id: str
    kind: OrderKind = "order"
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
    note: str | None = None
    rework_count: int = Field(default=0, ge=0)
    # The unit's own running limits on this ticket (sign, on-scene, complete, report-in).
    deadlines: tuple[Clock, ...] = ()
    # `whistle` records: the town's whistle this unit must report in to (报到).
    whistle_id: str | None = None
