"""`tickets.events` at scale for the replay bench, made by the project's own code.

Driving a hundred thousand tickets through Kafka, the worker and the simulators takes hours
on this machine, so the log is made in process: each template ticket is one of the labelled
corpus appeals (its labelled routing as the triage decision) taken through its whole life by
the real decisions (`domain.ticket.decide`, with the sample county's time limits), the work orders
(`domain.ticket.orders`) and the simulated units' and hotline's policies (`shaobao.simulation.unit_behaviour`,
`shaobao.simulation.hotline_behaviour`): signs, returns and redispatches, extensions, progress notes, co
units' parts, callbacks, rework, closes. The templates are then stamped with fresh ticket
ids (and source ids) until the log holds the number of events asked for: every ticket's
events are those the ticket agent would have written for it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from domain.intake.ids import receive_command
from domain.jurisdiction import Jurisdiction
from domain.ticket import TicketState, order_messages
from domain.ticket.decide import decide
from domain.ticket.fold import fold
from domain.ticket.lifecycle.actions import command_for_action
from domain.ticket.lifecycle.rules import LifecycleRules, rules_for
from domain.time_limits import LimitPolicy, WorkingCalendar
from infra.holidays import national_holidays
from infra.reference import load_jurisdiction
from schemas.appeal import Appeal
from schemas.commands import TicketCommand
from schemas.events import TicketEvent
from schemas.orders import WorkOrder
from schemas.triage import TriageDecision
from shaobao.simulation.hotline_behaviour import Move, next_moves
from shaobao.simulation.unit_behaviour import Plan, decision_key, plan_report_in, respond
from streams.settings import DEFAULT_JURISDICTION, REPO_ROOT

CORPUS = REPO_ROOT / "data" / "corpus" / "appeals_labeled.jsonl"
MARK = "@TPL{}@"  # a template's ticket id: replaced whole in each stamped copy
MAX_STEPS = 200
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # a Monday morning in the county


@dataclass
class _Life:
    """One ticket, its units' plans and the hotline's moves, stepped earliest first."""

    rules: LifecycleRules
    jurisdiction: Jurisdiction
    seed: str
    state: TicketState | None = None
    log: list[TicketEvent] = field(default_factory=list)
    plans: dict[str, tuple[str, Plan]] = field(default_factory=dict)
    moves: tuple[Move, ...] = ()
    sent: set[str] = field(default_factory=set)

    def rng(self, key: str) -> random.Random:
        return random.Random(f"{self.seed}:{key}")  # noqa: S311 - simulation

    def handle(self, command: TicketCommand, now: datetime) -> None:
        decision = decide(self.state, command, now, self.rules)
        before = self.state
        for event in decision.events:
            after = fold(before, event)
            self.log.append(event)
            for order in order_messages(before, after, event, self.jurisdiction):
                self._take(order)
            before = after
        if decision.state is not None:
            self.state = decision.state
            moves = next_moves(decision.state, self.rng)
            self.moves = tuple(m for m in moves if m.command.command_id not in self.sent)

    def _take(self, order: WorkOrder) -> None:
        rng = self.rng(decision_key(order))
        if order.kind == "whistle":
            self.plans[f"{order.unit}:{order.whistle_id}"] = (order.unit, plan_report_in(order, rng))
            return
        held = self.plans.get(order.unit)
        plan = respond(order, held[1] if held else None, rng)
        if plan is None:
            self.plans.pop(order.unit, None)
        else:
            self.plans[order.unit] = (order.unit, plan)

    def step(self) -> bool:
        """Take the earliest due step; False when no one has anything left to do."""
        due: list[tuple[datetime, str, Move | str]] = [
            (plan.steps[0].at, "unit", key) for key, (_, plan) in self.plans.items() if plan.steps
        ]
        due += [(move.at, "hotline", move) for move in self.moves]
        if not due:
            return False
        at, _, what = min(due, key=lambda d: d[0])
        if isinstance(what, Move):
            self.sent.add(what.command.command_id)
            self.moves = tuple(m for m in self.moves if m is not what)
            self.handle(what.command, at)
            return True
        unit, plan = self.plans[what]
        first, rest = plan.steps[0], plan.steps[1:]
        if rest or plan.awaiting is not None:
            self.plans[what] = (unit, replace(plan, steps=rest))
        else:
            del self.plans[what]
        self.handle(command_for_action(unit, first.action, at), at)
        return True


def labelled_appeals() -> list[tuple[Appeal, TriageDecision]]:
    """The corpus appeals with their labelled routing as the router's decision."""
    found = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        expect = record.pop("expect")
        record["source_id"] = record.pop("id")
        expect["co"] = tuple(expect.get("co") or ())
        triage = TriageDecision.model_validate({"confidence": 0.9, "town_resolution": "text", **expect})
        found.append((Appeal.model_validate(record), triage))
    return found


def rules() -> tuple[LifecycleRules, Jurisdiction]:
    county = load_jurisdiction(DEFAULT_JURISDICTION)
    calendar = WorkingCalendar.for_jurisdiction(county, national_holidays())
    return replace(rules_for(county), limits=LimitPolicy(county, calendar)), county


def template_logs(count: int, seed: int = 7) -> list[list[str]]:
    """`count` tickets' whole lives, each event as JSON, the ticket id written `MARK`."""
    lifecycle, county = rules()
    appeals = labelled_appeals()
    rng = random.Random(seed)  # noqa: S311 - bench data
    logs = []
    for n in range(count):
        appeal, triage = appeals[n % len(appeals)]
        ticket_id = MARK.format(n)
        at = START + timedelta(minutes=rng.randrange(60 * 24 * 60))
        appeal = appeal.model_copy(update={"source_id": f"{ticket_id}{appeal.source_id}", "received_at": at})
        life = _Life(lifecycle, county, f"{seed}:{n}")
        life.handle(receive_command(appeal, ticket_id, triage, at), at)
        for _ in range(MAX_STEPS):
            if not life.step():
                break
        logs.append([event.model_dump_json() for event in life.log])
    return logs


def stamped(templates: list[list[str]], events: int) -> Iterator[tuple[bytes, bytes]]:
    """(key, value) records of whole tickets, copies of the templates with ids of their own,
    until at least `events` events (six partitions' worth of ticket ids, as intake makes them)."""
    made = 0
    for n in range(10**9):
        if made >= events:
            return
        template = templates[n % len(templates)]
        ticket_id = f"20260302-{n % 6:02d}-{n // 6:07d}"
        mark = MARK.format(n % len(templates))
        key = ticket_id.encode()
        for value in template:
            yield key, value.replace(mark, ticket_id).encode()
        made += len(template)
