"""What became of each intake record: a ticket, a duplicate, a rejection or a dead letter.

The keys are those `tests/integration/test_crash_recovery.py::intake_fates` matches, read off
the topics the store mirrors rather than off the store (the log is the source of truth, and
its records carry the timestamps the stall and latency need):
- ticket: a ticket on `tickets.events` whose id ends `-<pp>-<oooooo>`, the intake record's
  partition and offset (`domain.intake.ids.ticket_id_for`);
- duplicate: a `duplicate_received` event whose command id ends `:<partition>:<offset>`
  (`domain.intake.ids.duplicate_command`);
- rejection: a rejection on `appeals.rejected` whose id is `<intake topic>:<partition>:<offset>`
  (`streams.codecs.rejection`; the store's `appeal_rejections.rejection_id`);
- dead letter: a dead letter on `dead.letters` whose source is the intake record
  (`agents.boundary.dead_letter`; the store's `dead_letters.source_*`).
Two more fates count only for a record that has none of those, each a path the code has:
- dead letter: the record's command dead-lettered by the ticket agent (its `ReceiveAppeal`
  names the record's ticket id, its `RecordDuplicate` ends with its position);
- forwarded: an appeal on another partition than its key's, which the intake agent re-sends
  to its key's partition (`agents/intake.py`); the copy is an intake record with its own fate.
A record with no fate, or more than one, is unaccounted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from pydantic import ValidationError

from bench.chaos.audit_log import LogRecord, Logs, TicketLog
from schemas.commands import ReceiveAppeal, RecordDuplicate
from schemas.dead_letters import DeadLetter
from schemas.events import DuplicateReceived
from schemas.rejections import AppealRejected
from streams.codecs import IntakeRejection, decode_appeal, decode_command
from streams.kept import restore
from streams.partitioning import partition_for

Position = tuple[int, int]  # (partition, offset) on the intake topic
# The events that decide a received appeal (`domain.ticket.decide._receive`): one follows every
# `ticket_received`, in the same batch.
DECISIONS = frozenset(
    {
        "ticket_dispatched",
        "ticket_queued_for_manual_dispatch",
        "ticket_answered_instantly",
        "ticket_transferred",
    }
)
KINDS = ("ticket", "duplicate", "rejection", "dead_letter")
K = TypeVar("K")


@dataclass(frozen=True)
class Fate:
    """One outcome of an intake record; `decided_at`: the timestamp of the record that decided
    it (a ticket's first decision event, the duplicate event, the rejection, the dead letter)."""

    kind: str
    decided_at: datetime | None


@dataclass(frozen=True)
class AppealFate:
    """One intake record: when it arrived (its record's timestamp) and every fate found for it."""

    partition: int
    offset: int
    arrived_at: datetime
    fates: tuple[Fate, ...]

    @property
    def accounted(self) -> bool:
        return len(self.fates) == 1


def ticket_position(ticket_id: str) -> Position | None:
    """The intake position a ticket id ends with (`<day>-<pp>-<oooooo>`); None for another id."""
    parts = ticket_id.rsplit("-", 2)
    if len(parts) != 3 or not (parts[1].isdigit() and parts[2].isdigit()):
        return None
    position = int(parts[1]), int(parts[2])
    return position if ticket_id.endswith(f"-{position[0]:02d}-{position[1]:06d}") else None


def duplicate_position(command_id: str) -> Position | None:
    """The intake position a duplicate's command id ends with (`duplicate:<key>:<p>:<o>`)."""
    parts = command_id.rsplit(":", 2)
    if len(parts) != 3 or not (parts[1].isdigit() and parts[2].isdigit()):
        return None
    return int(parts[1]), int(parts[2])


def source_position(source_id: str, topic: str) -> Position | None:
    """The position in `topic` that a `<topic>:<partition>:<offset>` id names; None elsewhere."""
    parts = source_id.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != topic or not (parts[1].isdigit() and parts[2].isdigit()):
        return None
    return int(parts[1]), int(parts[2])


def intake_fates(logs: Logs, tickets: Mapping[str, TicketLog]) -> list[AppealFate]:
    """Every intake record with its fates, in the order read."""
    direct = _direct_fates(logs, tickets)
    commands = _dead_commands(logs)
    found: list[AppealFate] = []
    for record in logs.intake:
        position = (record.partition, record.offset)
        fates = tuple(direct.get(position, ()))
        if not fates and position in commands:
            fates = (Fate("dead_letter", commands[position]),)
        elif not fates and _forwarded(record, logs.intake_partitions):
            fates = (Fate("forwarded", None),)
        found.append(AppealFate(record.partition, record.offset, record.at, fates))
    return found


def _direct_fates(logs: Logs, tickets: Mapping[str, TicketLog]) -> dict[Position, list[Fate]]:
    found: dict[Position, list[Fate]] = defaultdict(list)
    for ticket_id, log in tickets.items():
        position = ticket_position(ticket_id)
        if position is not None:
            decided = (at for e, at in zip(log.events, log.logged_at, strict=True) if e.type in DECISIONS)
            found[position].append(Fate("ticket", next(decided, None)))
        for event, at in zip(log.events, log.logged_at, strict=True):
            duplicate = duplicate_position(event.command_id) if isinstance(event, DuplicateReceived) else None
            if duplicate is not None:
                found[duplicate].append(Fate("duplicate", at))
    for rejection_id, at in _first_seen(_rejections(logs.rejected)).items():
        position = source_position(rejection_id, logs.intake_topic)
        if position is not None:
            found[position].append(Fate("rejection", at))
    intake_letters = (
        ((letter.source.partition, letter.source.offset), at)
        for letter, at in _letters(logs.dead_letters)
        if letter.source.topic == logs.intake_topic
    )
    for position, at in _first_seen(intake_letters).items():
        found[position].append(Fate("dead_letter", at))
    return found


def _dead_commands(logs: Logs) -> dict[Position, datetime]:
    """Intake positions whose command the ticket agent dead-lettered, at the dead letter's time."""
    found = (
        (command_position(letter), at)
        for letter, at in _letters(logs.dead_letters)
        if letter.source.topic == logs.commands_topic
    )
    return _first_seen((position, at) for position, at in found if position is not None)


def command_position(letter: DeadLetter) -> Position | None:
    """The intake position behind a dead-lettered command, by its ids: a `ReceiveAppeal` names
    the record's ticket id, a `RecordDuplicate`'s command id ends with the record's position."""
    try:
        command = decode_command(restore(letter.value, letter.value_encoding) or b"")
    except ValueError:
        return None  # not a command of ours (a hostile record): no intake record behind it
    if isinstance(command, ReceiveAppeal):
        return ticket_position(command.ticket_id)
    if isinstance(command, RecordDuplicate):
        return duplicate_position(command.command_id)
    return None


def _forwarded(record: LogRecord, partitions: int) -> bool:
    """An appeal on another partition than its key's: the intake agent re-sent it."""
    try:
        appeal = decode_appeal(record.value, record.key)
    except IntakeRejection:
        return False
    return partition_for(appeal.intake_key.encode(), partitions) != record.partition


def _rejections(records: Iterable[LogRecord]) -> Iterator[tuple[str, datetime]]:
    for record in records:
        try:
            rejected = AppealRejected.model_validate_json(record.value or b"")
        except ValidationError:
            continue  # not a rejection of ours: `shaobao rejected list` shows it as unreadable
        yield rejected.rejection_id, record.at


def _letters(records: Iterable[LogRecord]) -> Iterator[tuple[DeadLetter, datetime]]:
    for record in records:
        try:
            letter = DeadLetter.model_validate_json(record.value or b"")
        except ValidationError:
            continue  # not a dead letter of ours: `shaobao dead list` shows it
        yield letter, record.at


def _first_seen(pairs: Iterable[tuple[K, datetime]]) -> dict[K, datetime]:
    """Each key once, at its earliest timestamp (a copy written again after a crash is the same)."""
    first: dict[K, datetime] = {}
    for key, at in pairs:
        if key not in first or at < first[key]:
            first[key] = at
    return first
