"""A ticket's life with simulated units and a simulated hotline, all in memory: the pure
policies (domain.unit_behaviour, domain.hotline_behaviour) driven against the real decisions
(domain.decide) and work orders (domain.orders), in the order of their scheduled times."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import datetime

from domain.decide import Decision, decide
from domain.hotline_behaviour import SHARES, Move, Shares, next_moves
from domain.jurisdiction import Jurisdiction
from domain.lifecycle.actions import command_for_action
from domain.lifecycle.rules import LifecycleRules
from domain.orders import order_messages
from domain.ticket import TicketState, fold
from domain.unit_behaviour import HABITS, Habits, Plan, decision_key, plan_report_in, respond
from schemas.commands import TicketCommand
from schemas.events import TicketEvent
from schemas.orders import WorkOrder

MAX_STEPS = 500


@dataclass
class Day:
    jurisdiction: Jurisdiction
    rules: LifecycleRules
    seed: int = 0
    habits: Habits = HABITS
    shares: Shares = SHARES
    states: dict[str, TicketState] = field(default_factory=dict)
    log: list[TicketEvent] = field(default_factory=list)
    plans: dict[tuple[str, str], tuple[str, Plan]] = field(default_factory=dict)
    moves: dict[str, tuple[Move, ...]] = field(default_factory=dict)
    sent: set[str] = field(default_factory=set)

    def rng(self, key: str) -> random.Random:
        return random.Random(f"{self.seed}:{key}")  # noqa: S311 - simulation

    def handle(self, command: TicketCommand, now: datetime) -> Decision:
        decision = decide(self.states.get(command.ticket_id), command, now, self.rules)
        before = self.states.get(command.ticket_id)
        for event in decision.events:
            after = fold(before, event)
            self.log.append(event)
            for order in order_messages(before, after, event, self.jurisdiction):
                self._take(order)
            before = after
        if decision.state is not None:
            self.states[command.ticket_id] = decision.state
            self.moves[command.ticket_id] = tuple(
                m
                for m in next_moves(decision.state, self.rng, 1.0, self.shares)
                if m.command.command_id not in self.sent
            )
        for follow_up in decision.follow_ups:
            self.handle(follow_up, now)
        return decision

    def _take(self, order: WorkOrder) -> None:
        rng = self.rng(decision_key(order))
        if order.kind == "whistle":
            self.plans[(order.ticket_id, f"{order.unit}:{order.whistle_id}")] = (
                order.unit,
                plan_report_in(order, rng),
            )
            return
        key = (order.ticket_id, order.unit)
        held = self.plans.get(key)
        plan = respond(order, held[1] if held else None, rng, 1.0, self.habits)
        if plan is None:
            self.plans.pop(key, None)
        else:
            self.plans[key] = (order.unit, plan)

    def run(self) -> None:
        """Until no unit and no hotline staff has anything left to do."""
        for _ in range(MAX_STEPS):
            due: list[tuple[datetime, str, object]] = [
                (plan.steps[0].at, "unit", key) for key, (_, plan) in self.plans.items() if plan.steps
            ]
            due += [(m.at, "hotline", m) for moves in self.moves.values() for m in moves]
            if not due:
                return
            at, kind, what = min(due, key=lambda d: d[0])
            if kind == "unit":
                assert isinstance(what, tuple)
                unit, plan = self.plans[what]
                step, rest = plan.steps[0], plan.steps[1:]
                if rest or plan.awaiting is not None:
                    self.plans[what] = (unit, replace(plan, steps=rest))
                else:
                    del self.plans[what]
                self.handle(command_for_action(unit, step.action, at), at)
            else:
                assert isinstance(what, Move)
                self.sent.add(what.command.command_id)
                ticket = what.command.ticket_id
                self.moves[ticket] = tuple(m for m in self.moves[ticket] if m is not what)
                self.handle(what.command, at)
        raise AssertionError("the day did not end")
