"""Does the store hold what the log says? Every event once, every ticket equal to its fold.

`tickets.events` is the source of truth. The store must hold each of its events exactly
once and unchanged, nothing else, and for each ticket the state that folding its events
gives. Pure: the shell reads both sides and hands them in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from domain.ticket import FoldError, TicketState, replay
from schemas.events import TicketEvent


@dataclass(frozen=True, slots=True)
class Difference:
    kind: str  # missing_event, extra_event, changed_event, conflicting_event, missing_ticket, …
    ticket_id: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind:<18} {self.ticket_id}  {self.detail}"


def folded_tickets(events: Iterable[TicketEvent]) -> tuple[dict[str, TicketState], list[Difference]]:
    """Each ticket's state from the log (duplicates of an event ignored), and the logs that do not fold."""
    by_ticket: dict[str, dict[int, TicketEvent]] = defaultdict(dict)
    for event in events:
        by_ticket[event.ticket_id][event.version] = event
    states: dict[str, TicketState] = {}
    broken: list[Difference] = []
    for ticket_id, log in by_ticket.items():
        try:
            state = replay([log[v] for v in sorted(log)])
        except FoldError as exc:
            broken.append(Difference("unfoldable_log", ticket_id, str(exc)))
            continue
        if state is not None:
            states[ticket_id] = state
    return states, broken


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
