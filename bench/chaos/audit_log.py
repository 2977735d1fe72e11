"""What the chaos audit reads, as plain records, and each ticket's log as the store holds it.

The reader (`audit_read`) fills a `Logs` from Kafka; everything else works on it, so the
definitions are tested with synthetic records and no broker. A ticket's events are taken by
the rule the sink and `shaobao verify` share (`domain.ticket.consistency.accepted_log`: each version
once, the first copy, only events that fold) and folded with the domain's own `fold`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.ticket import TicketState, accepted_log
from domain.ticket.fold import fold
from schemas.base import validate_json
from schemas.events import TICKET_EVENT, TicketEvent


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One Kafka record: where it sits, its bytes, and its timestamp (`at`, UTC)."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    at: datetime


@dataclass(frozen=True)
class Logs:
    """Every record the audit looks at, read up to the end offsets seen at `read_at`; each
    topic's records in log order within a partition. `orders` is keyed by unit code."""

    intake_topic: str
    commands_topic: str
    intake_partitions: int
    intake: Sequence[LogRecord]
    events: Sequence[LogRecord]
    rejected: Sequence[LogRecord]
    dead_letters: Sequence[LogRecord]
    orders: Mapping[str, Sequence[LogRecord]]
    read_at: datetime


@dataclass(frozen=True)
class Folded:
    """One event of a ticket's log with the state around it and its record's timestamp."""

    before: TicketState | None
    after: TicketState
    event: TicketEvent
    logged_at: datetime


@dataclass(frozen=True)
class TicketLog:
    """One ticket's held events in version order, each with the timestamp of its record."""

    events: tuple[TicketEvent, ...]
    logged_at: tuple[datetime, ...]

    def folded(self) -> Iterator[Folded]:
        """The log folded event by event with `domain.ticket.fold.fold`."""
        state: TicketState | None = None
        for event, at in zip(self.events, self.logged_at, strict=True):
            after = fold(state, event)
            yield Folded(state, after, event, at)
            state = after


def ticket_logs(records: Iterable[LogRecord]) -> dict[str, TicketLog]:
    """Each ticket's log from `tickets.events` records; a record that is no ticket event (a
    broken writer's) is left out, as the store leaves it out (verify counts those)."""
    logged: dict[str, list[tuple[TicketEvent, datetime]]] = defaultdict(list)
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        try:
            event = validate_json(TICKET_EVENT, record.value)
        except ValueError:
            continue
        logged[event.ticket_id].append((event, record.at))
    logs: dict[str, TicketLog] = {}
    for ticket_id, pairs in logged.items():
        held, _ = accepted_log(event for event, _ in pairs)
        # accepted_log hands back the very objects it held: their records' timestamps by identity.
        at_of = {id(event): at for event, at in pairs}
        if held:
            logs[ticket_id] = TicketLog(tuple(held), tuple(at_of[id(event)] for event in held))
    return logs
