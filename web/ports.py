"""The roles the HTTP front doors depend on; `create_web_app` wires the real ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.open311_query import RequestQuery
from domain.ticket import TicketState
from schemas.appeal import Appeal
from schemas.kb import KbMatch


class IntakeUnavailable(Exception):
    """The appeal could not be handed to `appeals.intake` now; the client retries (same source_id)."""


class AppealPublisher(Protocol):
    """Hands an appeal to `appeals.intake` and returns once the broker has acknowledged it."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, appeal: Appeal) -> None:
        """Raises `IntakeUnavailable` when the broker does not take it."""
        ...


class TicketReader(Protocol):
    """Tickets as the pipeline recorded them. Raises `agents.ports.StoreUnavailable`."""

    async def by_ticket_id(self, ticket_id: str) -> TicketState | None: ...

    async def by_intake_key(self, channel: str, source_id: str) -> TicketState | None: ...

    async def find(self, query: RequestQuery) -> list[TicketState]: ...


class KbSearcher(Protocol):
    """The knowledge base searched with an appeal's words, best first (`domain.kb_search`).
    Raises `agents.ports.StoreUnavailable` when the entries cannot be (re)loaded."""

    async def search(self, text: str, limit: int = 5) -> tuple[KbMatch, ...]: ...


@dataclass(frozen=True)
class CallerTicket:
    """One ticket of a caller's history, as the store recorded it (codes, not names)."""

    ticket_id: str
    received_at: datetime
    category: str
    status: str
    satisfaction: str | None
    last_callback: str | None  # the outcome of the last callback attempt, if any


class CallerHistory(Protocol):
    """A caller's tickets by the digits of their number, newest first. Raises
    `agents.ports.StoreUnavailable`."""

    async def by_phone(self, digits: str, limit: int = 20) -> list[CallerTicket]: ...
