"""The roles agents depend on; implementations are wired in `shaobao.bootstrap`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.jurisdiction import Jurisdiction
from schemas.appeal import Appeal
from schemas.events import TicketEvent
from schemas.triage import TriageDecision


class Clock(Protocol):
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


class TicketEventStore(Protocol):
    async def record(self, events: Sequence[TicketEvent]) -> int:
        """Write events idempotently; returns how many were new. Raises `StoreUnavailable`."""
        ...
