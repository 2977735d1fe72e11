"""Does the store hold what the log says? Every event once, every ticket equal to its fold.

`tickets.events` is the source of truth. The store must hold each of its events exactly
once and unchanged, nothing else, and for each ticket the state that folding its events
gives. Pure: the shell reads both sides and hands them in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from domain.ticket.fold import FoldError, TicketState, fold, replay
from schemas.events import TicketEvent


@dataclass(frozen=True, slots=True)
class Difference:
    kind: str  # missing_event, extra_event, changed_event, conflicting_event, missing_ticket, …
    ticket_id: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind:<18} {self.ticket_id}  {self.detail}"


def accepted_log(events: Iterable[TicketEvent]) -> tuple[list[TicketEvent], list[tuple[TicketEvent, str]]]:
    """One ticket's events in log order: those the store holds, and those it refuses, with why.

    An event is held when it follows the held ones (the next version, folding cleanly onto
    their state); the same event again is a duplicate (a producer retry, a replay) and
    ignored; anything else (a gap, an unequal second copy of a version, a first event that
    is not `ticket_received`) was written by a broken writer and is refused: the sink
    dead-letters it and `shaobao verify` leaves it out. The sink and verify share this rule.
    """
    state: TicketState | None = None
    held: dict[int, TicketEvent] = {}
    refused: list[tuple[TicketEvent, str]] = []
    for event in events:
        earlier = held.get(event.version)
        if earlier is not None:
            if earlier != event:
                refused.append((event, f"version {event.version} again, unlike the one held"))
            continue
        try:
            state = fold(state, event)
        except FoldError as exc:
            refused.append((event, str(exc)))
            continue
        held[event.version] = event
    return [held[version] for version in sorted(held)], refused


def folded_tickets(
    events: Iterable[TicketEvent],
) -> tuple[dict[str, TicketState], list[TicketEvent], list[tuple[TicketEvent, str]]]:
    """Each ticket's state from the log in log order, the events held, and those refused."""
    by_ticket: dict[str, list[TicketEvent]] = defaultdict(list)
    for event in events:
        by_ticket[event.ticket_id].append(event)
    states: dict[str, TicketState] = {}
    held: list[TicketEvent] = []
    refused: list[tuple[TicketEvent, str]] = []
    for log in by_ticket.values():
        kept, dropped = accepted_log(log)
        refused += dropped
        held += kept
        state = replay(kept)
        if state is not None:
            states[state.ticket_id] = state
    return states, held, refused


def compare_events(topic: Iterable[TicketEvent], stored: Mapping[str, TicketEvent]) -> list[Difference]:
    """Events missing from the store, changed in it, or in it but not on the topic.

    The topic may carry one event twice (a producer retry): that is one event if both copies
    are equal, and a conflict if they differ.
    """
    seen: dict[str, TicketEvent] = {}
    found: list[Difference] = []
    for event in topic:
        earlier = seen.setdefault(event.event_id, event)
        if earlier is not event and earlier != event:
            found.append(Difference("conflicting_event", event.ticket_id, f"{event.event_id} twice, unequal"))
    for event_id, event in seen.items():
        kept = stored.get(event_id)
        if kept is None:
            found.append(Difference("missing_event", event.ticket_id, f"{event_id} ({event.type})"))
        elif kept != event:
            found.append(Difference("changed_event", event.ticket_id, f"{event_id} ({event.type})"))
    for event_id, event in stored.items():
        if event_id not in seen:
            found.append(Difference("extra_event", event.ticket_id, f"{event_id} ({event.type})"))
    return found


def compare_states(
    expected: Mapping[str, TicketState], stored: Mapping[str, TicketState]
) -> list[Difference]:
    """Tickets whose stored state is not the fold of their events, or that one side lacks."""
    found: list[Difference] = []
    for ticket_id, state in expected.items():
        kept = stored.get(ticket_id)
        if kept is None:
            found.append(Difference("missing_ticket", ticket_id, f"version {state.version}"))
        elif kept != state:
            fields = sorted(
                name for name in TicketState.model_fields if getattr(kept, name) != getattr(state, name)
            )
            found.append(Difference("state_differs", ticket_id, ", ".join(fields)))
    for ticket_id in stored.keys() - expected.keys():
        found.append(Difference("extra_ticket", ticket_id, "in the store, not on the topic"))
    return found
