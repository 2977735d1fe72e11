"""A ticket driven through the real lifecycle (`domain.ticket.decide`) with the jurisdiction's
limits on the working calendar, for the rates and report tests."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from domain.intake.ids import receive_command
from domain.jurisdiction import Jurisdiction
from domain.ticket import TicketState
from domain.ticket.decide import decide
from domain.ticket.lifecycle.rules import LifecycleRules, rules_for
from domain.time_limits import LimitPolicy, WorkingCalendar
from infra.holidays import national_holidays
from schemas.appeal import Appeal
from schemas.commands import TicketCommand
from schemas.events import TicketEvent
from schemas.triage import TriageDecision

# Monday 2 March 2026, 09:15 in Ningxiang (UTC+8): a working morning.
MONDAY = datetime(2026, 3, 2, 1, 15, tzinfo=UTC)
ids = count()


def calendar_for(jurisdiction: Jurisdiction) -> WorkingCalendar:
    return WorkingCalendar.for_jurisdiction(jurisdiction, national_holidays())


def rules_with_limits(jurisdiction: Jurisdiction, calendar: WorkingCalendar) -> LifecycleRules:
    return dataclasses.replace(rules_for(jurisdiction), limits=LimitPolicy(jurisdiction, calendar))


class Desk:
    """One ticket driven command by command; every event it produced is kept."""

    def __init__(
        self, rules: LifecycleRules, ticket_id: str, category: str = "sanitation.garbage", lead: str = "cgj"
    ) -> None:
        self.rules, self.ticket_id = rules, ticket_id
        self.state: TicketState | None = None
        self.events: list[TicketEvent] = []
        appeal = Appeal(
            channel="phone",
            source_id=ticket_id,
            received_at=MONDAY,
            text="玉潭中路垃圾箱破损",
            address="玉潭中路",
        )
        triage = TriageDecision(
            appeal_type="help",
            category=category,
            urgency="normal",
            town="yutan",
            disposition="dispatch",
            lead=lead,
            co=("yutan",),
            confidence=0.9,
        )
        self.apply(receive_command(appeal, ticket_id, triage, MONDAY), MONDAY)

    def apply(self, command: TicketCommand, at: datetime) -> None:
        decision = decide(self.state, command, at, self.rules)
        assert decision.refused is None and all(e.type != "command_rejected" for e in decision.events)
        self.state = decision.state
        self.events += decision.events

    def unit(self, kind: type[Any], at: datetime, unit: str = "cgj", **fields: Any) -> Desk:
        n = next(ids)
        common = {"command_id": f"u{n}", "ticket_id": self.ticket_id, "issued_at": at, "action_id": f"a{n}"}
        self.apply(kind(**common, unit=unit, **fields), at)
        return self

    def control(self, kind: type[Any], at: datetime, **fields: Any) -> Desk:
        common = {"command_id": f"c{next(ids)}", "ticket_id": self.ticket_id, "issued_at": at}
        self.apply(kind(**common, operator="坐席", role="control_room", **fields), at)
        return self


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
