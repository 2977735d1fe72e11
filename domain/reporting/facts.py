"""What the reports need to know of one ticket, read from its events as of an instant.

One pass over a ticket's log (the same log on `tickets.events` and in PostgreSQL) gives
its `TicketFacts`: when it was dispatched and to whom, whether the lead signed within the
sign limit, when it was first completed and whether within the completion limit (granted
extensions added), how often it was returned and reworked, and its final callbacks.

The limits are the ticket's own clocks (`domain.time_limits.clock_changes`), as its events set them:
- signed in time: the lead's first signature came by the sign clock running before it;
- completed on time: the first completion came by the completion clock running before it
  (granted extensions extend that clock); with no clock running there was nothing to miss;
- overdue: a completion clock marked overdue by the timers, a completion after its clock's
  due instant, or a completion clock still running at `as_of` past its due instant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from domain.privacy.masking import scrub_identifiers, shown_text
from domain.ticket.fold import OPEN_STATUSES, TicketState, fold
from domain.time_limits.workdays import WorkingCalendar
from schemas.events import (
    CallbackRecorded,
    LimitOverdue,
    OrderReturned,
    OrderSigned,
    TicketAnsweredInstantly,
    TicketCompleted,
    TicketDispatched,
    TicketEvent,
    TicketRedispatched,
    TicketReworked,
    TicketSupervised,
)
from schemas.limits import Clock, ClockKind


@dataclass(frozen=True, slots=True)
class FinalCallback:
    citizen: str
    outcome: str  # satisfied, basically_satisfied, no_comment, dissatisfied, unreachable
    solved: bool | None


@dataclass(frozen=True, slots=True)
class TicketFacts:
    ticket_id: str
    received_at: datetime
    status: str  # as of `as_of`
    category: str
    town: str | None
    place: str  # the appeal's address as written
    text: str
    dispatched_at: datetime | None = None  # the first dispatch
    lead: str | None = None  # the lead as of `as_of` (the last one named, while it is returned)
    signed_in_time: bool = False
    completed_at: datetime | None = None  # the first completion
    completed_on_time: bool = False
    overdue: bool = False
    supervised: bool = False  # 督办: escalated past a limit
    due_at: datetime | None = None  # the running completion clock's due instant
    reworks: int = 0
    returned_by: tuple[str, ...] = ()
    callbacks: tuple[FinalCallback, ...] = ()  # of the last round (a rework starts a new one)
    handling_s: float | None = None  # working seconds from the first dispatch to the first completion
    answered_at: datetime | None = None  # 即办: answered on the line (and perhaps dispatched later)
    kb_entry: str | None = None  # the knowledge-base entry the answer came from
    answer_wanting: bool = False  # the caller, called back, was dissatisfied with that answer

    @property
    def is_open(self) -> bool:
        return self.status in {s.value for s in OPEN_STATUSES}


def ticket_facts(
    events: Iterable[TicketEvent], as_of: datetime, calendar: WorkingCalendar
) -> TicketFacts | None:
    """The facts of one ticket from its events before `as_of` (any order, duplicates ignored)."""
    log = sorted({e.event_id: e for e in events if e.occurred_at < as_of}.values(), key=lambda e: e.version)
    state: TicketState | None = None
    tally = _Tally()
    for event in log:
        running = {c.kind: c for c in state.clocks} if state is not None else {}
        state = fold(state, event)
        tally.note(event, running)
    if state is None:
        return None
    return _facts(state, tally, log, as_of, calendar)


@dataclass(slots=True)
class _Tally:
    """What a ticket's history says beyond its folded state, noted event by event."""

    dispatched_at: datetime | None = None
    completed_at: datetime | None = None
    on_time: bool = False
    signed_in_time: bool = False
    overdue: bool = False
    supervised: bool = False
    reworks: int = 0
    returned_by: list[str] = field(default_factory=list)
    finals: dict[str, FinalCallback] = field(default_factory=dict)
    answered_at: datetime | None = None
    kb_entry: str | None = None
    answer_wanting: bool = False

    def note(self, event: TicketEvent, running: dict[ClockKind, Clock]) -> None:
        """Take one event, with the clocks that were running before it."""
        self._note_limits(event, running)
        self._note_handling(event)

    def _note_limits(self, event: TicketEvent, running: dict[ClockKind, Clock]) -> None:
        """Dispatch, signature and completion against the clocks running, overdue marks, 督办."""
        match event:
            case TicketDispatched() | TicketRedispatched():
                # A new lead (or the same one anew) has a new sign clock: its own response counts.
                self.dispatched_at = self.dispatched_at or event.occurred_at
                self.signed_in_time = False
            case OrderSigned() if event.role == "lead":
                self.signed_in_time = _by(running.get(ClockKind.SIGN), event.occurred_at)
            case TicketCompleted():
                in_time = _by(running.get(ClockKind.COMPLETE), event.occurred_at)
                self.overdue = self.overdue or not in_time
                if self.completed_at is None:
                    self.completed_at, self.on_time = event.occurred_at, in_time
            case LimitOverdue() if event.kind is ClockKind.COMPLETE:
                self.overdue = True
            case TicketSupervised():
                self.supervised = True

    def _note_handling(self, event: TicketEvent) -> None:
        """Returns, reworks, the final callbacks of the last round and an answer on the line."""
        match event:
            case TicketReworked():
                self.reworks += 1
                self.finals = {}
            case OrderReturned():
                self.returned_by.append(event.unit)
            case CallbackRecorded() if event.final:
                self.finals[event.citizen] = FinalCallback(event.citizen, event.outcome, event.solved)
                answered_only = self.answered_at is not None and self.dispatched_at is None
                if answered_only and event.outcome == "dissatisfied":
                    self.answer_wanting = True
            case TicketAnsweredInstantly():
                self.answered_at, self.kb_entry = event.occurred_at, event.entry_id


def _facts(
    state: TicketState, tally: _Tally, log: list[TicketEvent], as_of: datetime, calendar: WorkingCalendar
) -> TicketFacts:
    """The facts of the folded ticket and its tallied history, as of `as_of`."""
    complete = next((c for c in state.clocks if c.kind is ClockKind.COMPLETE), None)
    dispatched_at, completed_at = tally.dispatched_at, tally.completed_at
    return TicketFacts(
        ticket_id=state.ticket_id,
        received_at=state.received_at,
        status=state.status.value,
        category=state.category or state.triage.category,
        town=state.town if state.category is not None else state.triage.town,
        place=scrub_identifiers(state.appeal.address),
        text=shown_text(state),
        dispatched_at=dispatched_at,
        lead=state.lead or _last_lead(log),
        signed_in_time=tally.signed_in_time,
        completed_at=completed_at,
        completed_on_time=tally.on_time,
        overdue=tally.overdue or (complete is not None and complete.due_at < as_of),
        supervised=tally.supervised,
        due_at=complete.due_at if complete is not None else None,
        reworks=tally.reworks,
        returned_by=tuple(tally.returned_by),
        callbacks=tuple(tally.finals.values()),
        handling_s=(
            calendar.working_seconds_between(dispatched_at, completed_at)
            if dispatched_at is not None and completed_at is not None
            else None
        ),
        answered_at=tally.answered_at,
        kb_entry=tally.kb_entry,
        answer_wanting=tally.answer_wanting,
    )


def _by(clock: Clock | None, at: datetime) -> bool:
    """Whether `at` came by the clock's due instant; with no clock running nothing was missed."""
    return clock is None or at <= clock.due_at


def _last_lead(log: list[TicketEvent]) -> str | None:
    """The last unit named lead: whom a returned or closed ticket is counted against."""
    for event in reversed(log):
        if isinstance(event, TicketDispatched | TicketRedispatched | TicketReworked):
            return event.lead
    return None
