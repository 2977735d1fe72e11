"""A ticket desk with the sample county's time limits and a controllable clock: each command
is decided at the instant the test names, as the ticket agent would at that moment."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from itertools import count
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from domain.intake.ids import receive_command
from domain.jurisdiction import Jurisdiction, parse_jurisdiction
from domain.ticket import Decision, TicketState
from domain.ticket.decide import decide
from domain.ticket.lifecycle.rules import LifecycleRules, rules_for
from domain.time_limits import LimitPolicy, WorkingCalendar
from domain.time_limits.decisions import flag_command_id
from infra.holidays import national_holidays
from schemas.appeal import Appeal, Caller
from schemas.commands import (
    BlowWhistle,
    CompleteTicket,
    FlagLimit,
    GrantExtension,
    MergeAppeal,
    NoteProgress,
    RecordCallback,
    ReportIn,
    RequestExtension,
    ReturnOrder,
    ReworkTicket,
    SignOrder,
    TicketCommand,
)
from schemas.events import TicketEvent
from schemas.limits import Clock, Mark
from schemas.triage import TriageDecision

SHANGHAI = ZoneInfo("Asia/Shanghai")
SAMPLE = Path(__file__).parents[2] / "data" / "jurisdiction" / "sample-county.yaml"
COUNTY: Jurisdiction = parse_jurisdiction(yaml.safe_load(SAMPLE.read_text(encoding="utf-8")))
POLICY = LimitPolicy(COUNTY, WorkingCalendar.for_jurisdiction(COUNTY, national_holidays()))
RULES: LifecycleRules = replace(rules_for(COUNTY), limits=POLICY)

UNIT_COMMANDS: dict[str, Any] = {
    "sign": SignOrder,
    "return": ReturnOrder,
    "request_extension": RequestExtension,
    "note_progress": NoteProgress,
    "complete": CompleteTicket,
    "whistle": BlowWhistle,
    "report_in": ReportIn,
}
CONTROL_COMMANDS: dict[str, Any] = {
    "grant_extension": GrantExtension,
    "callback": RecordCallback,
    "rework": ReworkTicket,
    "merge": MergeAppeal,
}


def local(text: str) -> datetime:
    """`Fri 2026-09-18 16:00[:30]` in Shanghai; the weekday keeps the tables honest."""
    weekday, rest = text.split(" ", 1)
    pattern = "%Y-%m-%d %H:%M:%S" if rest.count(":") == 2 else "%Y-%m-%d %H:%M"
    moment = datetime.strptime(rest, pattern).replace(tzinfo=SHANGHAI)
    assert moment.strftime("%a") == weekday, f"{text} is a {moment.strftime('%a')}"
    return moment


def shown(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%a %Y-%m-%d %H:%M:%S")


def other_appeal(source_id: str, received: str) -> Appeal:
    """Another citizen's appeal on the same problem, received at `received` (local time)."""
    return Appeal(
        channel="wechat",
        source_id=source_id,
        received_at=local(received),
        text="凤凰城小区门口下水道又堵了，污水满地。",
        address="凤凰城小区",
        caller=Caller(name="李女士", phone="13800138000"),
    )


def triage(**overrides: object) -> TriageDecision:
    base: dict[str, object] = {
        "appeal_type": "help",
        "category": "drainage.sewer",
        "urgency": "normal",
        "town": "baimaqiao",
        "disposition": "dispatch",
        "lead": "zjj",
        "co": ("baimaqiao",),
        "confidence": 0.9,
    }
    return TriageDecision.model_validate({**base, **overrides})


class TimedDesk:
    """One ticket, `T1`, opened at `opened_at`; every command is decided at the instant given."""

    def __init__(self, opened_at: str, decision: TriageDecision | None = None, ticket_id: str = "T1") -> None:
        self.ids = count(1)
        self.ticket_id = ticket_id
        at = local(opened_at)
        appeal = Appeal(
            channel="phone",
            source_id=f"v-{ticket_id}",
            received_at=at,
            text="白马桥街道凤凰城小区门口下水道堵塞，污水外溢。",
            address="凤凰城小区",
            caller=Caller(name="向先生", phone="18939595216"),
        )
        first = decide(None, receive_command(appeal, ticket_id, decision or triage(), at), at, RULES)
        assert first.state is not None
        self.state: TicketState = first.state
        self.log: list[TicketEvent] = list(first.events)

    def run(self, command: TicketCommand, at: datetime) -> Decision:
        decision = decide(self.state, command, at, RULES)
        assert decision.state is not None
        self.state = decision.state
        self.log.extend(decision.events)
        return decision

    def act(self, at: str, kind: str, unit: str, **fields: Any) -> list[str]:
        action_id = f"a{next(self.ids)}"
        command = UNIT_COMMANDS[kind](
            command_id=f"unit:{unit}:{action_id}",
            ticket_id=self.ticket_id,
            issued_at=local(at),
            unit=unit,
            action_id=action_id,
            **fields,
        )
        return [e.type for e in self.run(command, local(at)).events]

    def control(self, at: str, kind: str, **fields: Any) -> list[str]:
        command = CONTROL_COMMANDS[kind](
            command_id=f"control:{next(self.ids)}",
            ticket_id=self.ticket_id,
            issued_at=local(at),
            operator="王坐席",
            role="control_room",
            **fields,
        )
        return [e.type for e in self.run(command, local(at)).events]

    def flag(self, at: str, clock: str, mark: Mark, limit_version: int | None = None) -> list[str]:
        """What the timers send when `clock` reaches `mark` (of its current version by default)."""
        version = self.clock(clock).version if limit_version is None else limit_version
        command = FlagLimit(
            command_id=flag_command_id(self.ticket_id, clock, mark, version),
            ticket_id=self.ticket_id,
            issued_at=local(at),
            clock=clock,
            mark=mark,
            limit_version=version,
        )
        return [e.type for e in self.run(command, local(at)).events]

    def clock(self, key: str) -> Clock:
        found = [c for c in self.state.clocks if c.key == key]
        assert len(found) == 1, f"{key} not among {[c.key for c in self.state.clocks]}"
        return found[0]

    def due(self) -> dict[str, str]:
        """Each running clock's due instant, local time."""
        return {c.key: shown(c.due_at) for c in self.state.clocks}
