"""The roles the units' and control room's HTTP API depends on; `create_web_app` wires the real ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from domain.access import Principal
from domain.ticket import TicketState
from schemas.actions import UnitAction
from schemas.commands import ControlCommand
from schemas.kb import KbEntry

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
