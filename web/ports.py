"""The roles the HTTP front doors depend on; `create_web_app` wires the real ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from domain.access import Principal
from domain.open311.query import RequestQuery
from domain.ticket.fold import TicketState
from schemas.actions import UnitAction
from schemas.appeal import Appeal
from schemas.commands import ControlCommand
from schemas.kb import KbEntry, KbMatch


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
    """The knowledge base searched with an appeal's words, best first (`domain.kb.search`).
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


KbChange = Literal["created", "updated", "retired", "imported"]
KbWrite = Literal["created", "updated", "unchanged"]


class PublishUnavailable(Exception):
    """Kafka did not acknowledge the record; the client retries the same request (same ids)."""


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> Principal | None:
        """The holder of an active token, None otherwise. Raises `agents.ports.StoreUnavailable`."""
        ...


class ActionPublisher(Protocol):
    """Puts what the API accepted on its topic; returns once the broker has acknowledged it."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish_action(self, unit: str, action: UnitAction) -> None:
        """On `units.<unit>.actions`, as the unit's own Kafka client would. Raises `PublishUnavailable`."""
        ...

    async def publish_command(self, command: ControlCommand) -> None:
        """On `tickets.commands`. Raises `PublishUnavailable`."""
        ...


class OrderReader(Protocol):
    async def held_by(self, unit: str, limit: int) -> list[TicketState]:
        """Tickets being worked on that `unit` holds, oldest first, at most `limit`.
        Raises `agents.ports.StoreUnavailable`."""
        ...


class NotYourEntry(Exception):
    """The knowledge-base entry belongs to another unit: a unit writes and retires only its own."""


class KbEntryNotFound(Exception):
    """No knowledge-base entry has that id."""


@dataclass(frozen=True)
class KbRecord:
    """A knowledge-base entry as kept: the entry, its version, who wrote it last and when."""

    entry: KbEntry
    version: int
    updated_by: str
    updated_at: datetime
    retired_at: datetime | None


@dataclass(frozen=True)
class KbVersion:
    """One version of an entry: what it said (None once retired), who changed it, when, how."""

    entry_id: str
    version: int
    entry: KbEntry | None
    changed_by: str
    changed_at: datetime
    change: KbChange


class KbKeeper(Protocol):
    """The units' knowledge-base entries. Raises `agents.ports.StoreUnavailable`."""

    async def upsert(self, entry: KbEntry, by: str, owner: str | None = None) -> tuple[KbWrite, KbRecord]:
        """Create or update; an entry equal to the kept one is left as it is ("unchanged").
        With `owner`, an existing entry of another unit raises `NotYourEntry`."""
        ...

    async def retire(self, entry_id: str, by: str, owner: str | None = None) -> KbRecord:
        """Raises `KbEntryNotFound`, or `NotYourEntry` for another unit's entry."""
        ...

    async def get(self, entry_id: str) -> KbRecord | None:
        """The entry, retired or not."""
        ...

    async def versions(self, entry_id: str) -> list[KbVersion]: ...

    async def list(self, unit: str) -> list[KbRecord]:
        """The unit's entries not retired, by id."""
        ...
