"""Numbering a command's events after the state's version, and the guard error of a rejection."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from schemas.events import Violation


class EventHeader(TypedDict):
    event_id: str
    ticket_id: str
    version: int
    occurred_at: datetime
    command_id: str


class Emitter:
    """Numbers events after the state's version, giving each its deterministic id."""

    def __init__(self, ticket_id: str, version: int, command_id: str, now: datetime) -> None:
        self.ticket_id, self.version, self.command_id, self.now = ticket_id, version, command_id, now

    def header(self) -> EventHeader:
        self.version += 1
        return EventHeader(
            event_id=f"{self.ticket_id}:{self.version}",
            ticket_id=self.ticket_id,
            version=self.version,
            occurred_at=self.now,
            command_id=self.command_id,
        )


class Rejected(Exception):
    """A command that does not fit: the state (`state`) or who sent it (`authorization`)."""

    def __init__(self, reason: str, violation: Violation = "state") -> None:
        super().__init__(reason)
        self.reason, self.violation = reason, violation


def forbidden(reason: str) -> Rejected:
    """The actor may not do this at all: a security matter, alerted as such."""
    return Rejected(reason, "authorization")
