"""The roles agents depend on; implementations are wired in `shaobao.bootstrap`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.jurisdiction import Jurisdiction
from domain.ops import PartitionLag
from schemas.appeal import Appeal
from schemas.events import TicketEvent
from schemas.triage import TriageDecision


class TimeSource(Protocol):
    def now(self) -> datetime: ...


class Router(Protocol):
    def decide(self, appeal: Appeal) -> TriageDecision: ...


class ReferenceData(Protocol):
    """The jurisdiction in force and the router built from it (swappable at run time)."""

    @property
    def jurisdiction(self) -> Jurisdiction: ...

    @property
    def router(self) -> Router: ...


class StoreUnavailable(Exception):
    """The ticket store cannot be reached; the caller retries and commits nothing meanwhile."""


class Unstorable(Exception):
    """The store refuses to hold what it was given (not a passing fault): a dead letter.

    `index`, when known, is the refused event's place in the batch given (an event id is not
    enough: a broken writer's copy of an event has its id); nothing of the batch was written."""

    def __init__(self, detail: str, event_id: str | None = None, index: int | None = None) -> None:
        super().__init__(detail)
        self.event_id, self.index = event_id, index


class Unfoldable(Unstorable):
    """An event that does not follow its ticket's log, even re-read from `tickets.events`."""


class TicketLog(Protocol):
    async def held_events(self, ticket_id: str) -> Sequence[TicketEvent]:
        """The ticket's events on `tickets.events` that the store holds (`domain.ticket.consistency`)."""
        ...


class TicketEventStore(Protocol):
    async def record(self, events: Sequence[TicketEvent]) -> int:
        """Write events idempotently; returns how many were new. Raises `StoreUnavailable`."""
        ...


class LagUnavailable(Exception):
    """Kafka could not be asked for offsets this time; the next poll tries again."""


class LagReader(Protocol):
    async def lag(self, group: str, now: datetime, topics: Sequence[str] = ()) -> list[PartitionLag]:
        """Lag per partition of `group`; raises `LagUnavailable`."""
        ...


class StoreErrorCount(Protocol):
    """How many times the ticket store has failed since the process started."""

    @property
    def errors_total(self) -> int: ...
