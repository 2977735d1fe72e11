"""A ticket's life with simulated units and a simulated hotline, all in memory: the pure
policies (shaobao.simulation.unit_behaviour, shaobao.simulation.hotline_behaviour) driven
against the real decisions
(domain.ticket.decide) and work orders (domain.ticket.orders), in the order of their scheduled times."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from domain.jurisdiction import Jurisdiction
from domain.ticket import Decision, TicketState, order_messages
from domain.ticket.decide import decide
from domain.ticket.fold import fold
from domain.ticket.lifecycle.actions import command_for_action
from domain.ticket.lifecycle.rules import LifecycleRules
from schemas.commands import TicketCommand
from schemas.events import TicketEvent
from schemas.orders import WorkOrder
from shaobao.simulation.hotline_behaviour import SHARES, Move, Shares, next_moves
from shaobao.simulation.unit_behaviour import HABITS, Habits, Plan, decision_key, plan_report_in, respond

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

    def due(self) -> list[Due]:
        """What some unit or hotline staff would do next: each plan's first step, every move."""
        steps = [Due(plan.steps[0].at, "unit", key) for key, (_, plan) in self.plans.items() if plan.steps]
        return steps + [Due(m.at, "hotline", m) for moves in self.moves.values() for m in moves]

    def take(self, due: Due) -> None:
        """Do one of the `due` steps: send its action or command to the ticket."""
        if isinstance(due.what, Move):
            self.sent.add(due.what.command.command_id)
            ticket = due.what.command.ticket_id
            self.moves[ticket] = tuple(m for m in self.moves[ticket] if m is not due.what)
            self.handle(due.what.command, due.at)
            return
        unit, plan = self.plans[due.what]
        step, rest = plan.steps[0], plan.steps[1:]
        if rest or plan.awaiting is not None:
            self.plans[due.what] = (unit, replace(plan, steps=rest))
        else:
            del self.plans[due.what]
        self.handle(command_for_action(unit, step.action, due.at), due.at)

    def signatures(self) -> list[Signature]:
        return [signature(event.model_dump(mode="json")) for event in self.log]

    def fork(self) -> Day:
        """A copy to try a step on (plans, moves and states are immutable values)."""
        return replace(
            self,
            states=dict(self.states),
            log=list(self.log),
            plans=dict(self.plans),
            moves=dict(self.moves),
            sent=set(self.sent),
        )

    def run(self) -> None:
        """Until no unit and no hotline staff has anything left to do, earliest step first."""
        for _ in range(MAX_STEPS):
            due = self.due()
            if not due:
                return
            self.take(min(due, key=lambda d: d.at))
        raise AssertionError("the day did not end")


@dataclass(frozen=True)
class Due:
    at: datetime
    kind: str
    what: tuple[str, str] | Move


Signature = tuple[str, str]


def signature(event: Mapping[str, object]) -> Signature:
    """What identifies an event in a replay: its type and the unit (or lead) it concerns."""
    return str(event["type"]), str(event.get("unit") or event.get("lead") or "")


def replay(day: Day, history: Sequence[Signature], budget: int = 20_000) -> Day | None:
    """The day in which the units and the hotline took their steps in an order that gives
    exactly `history`, or None when no order of the policies' steps gives it (or none was
    found within `budget` tries).

    Real units and a real hotline act concurrently over separate topics, so two steps due
    close together can reach the ticket in either order; the policies must explain what
    happened in some order of their steps, earliest-first tried first.
    """
    tries = 0

    def search(day: Day) -> Day | None:
        nonlocal tries
        tries += 1
        made = day.signatures()
        if made != list(history[: len(made)]) or tries > budget:
            return None
        due = day.due()
        if not due:
            return day if len(made) == len(history) else None
        for step in sorted(due, key=lambda d: d.at):
            trial = day.fork()
            trial.take(step)
            found = search(trial)
            if found is not None:
                return found
        return None

    return search(day)
