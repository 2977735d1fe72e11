"""The roles the units' and control room's HTTP API depends on; `create_web_app` wires the real ones."""

from __future__ import annotations

from typing import Protocol

from domain.access import Principal
from domain.ticket import TicketState
from schemas.actions import UnitAction
from schemas.commands import ControlCommand


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
