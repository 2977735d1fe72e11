"""What the intake does with one record of `appeals.intake`: reject, re-route, open or note a duplicate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from domain.intake.ids import duplicate_command, receive_command, ticket_id_for
from schemas.appeal import Appeal
from schemas.commands import ReceiveAppeal, RecordDuplicate
from schemas.rejections import RejectionReason
from schemas.triage import TriageDecision


@dataclass(frozen=True, slots=True)
class Arrival:
    """Where the record was read, and which partition an intake key belongs on (Kafka's
    partitioner over the topic's partitions: the one whose `intake_seen` knows its duplicates)."""

    partition: int
    offset: int
    home_of: Callable[[str], int]


@dataclass(frozen=True, slots=True)
class Reject:
    """Not an appeal: a rejection on `appeals.rejected`, with the record's own bytes."""

    reason: RejectionReason
    message: str


@dataclass(frozen=True, slots=True)
class Reroute:
    """On another partition than its key's (a producer with another partitioner, e.g.
    librdkafka's CRC32): the record as it came, keyed by its intake key, to `partition`."""

    key: str
    partition: int


@dataclass(frozen=True, slots=True)
class Admit:
    """A command for `tickets.commands`; `remember` is the ticket id to keep under the
    appeal's intake key once it is sent, None when the key is already known."""

    command: ReceiveAppeal | RecordDuplicate
    intake_key: str
    remember: str | None


IntakeOutcome = Reject | Reroute | Admit


def take_in(
    read: Appeal | Reject,
    seen: Callable[[str], str | None],
    at: Arrival,
    route: Callable[[Appeal], TriageDecision],
    timezone: str,
    now: datetime,
) -> IntakeOutcome:
    """The intake's decision on one record: `read` as an appeal, or the codec's rejection of it.

    `route` is the triage in force; `timezone` the jurisdiction's, which dates ticket ids.
    `seen` gives the ticket id an intake key (`channel:source_id`) already has. An appeal
    seen before is a duplicate of that ticket; one seen under its own ticket id is this
    very record again after a crash (the table kept it, the offset did not): the same
    command again, which the ticket agent knows by its id."""
    if isinstance(read, Reject):
        return read
    appeal, key = read, read.intake_key
    home = at.home_of(key)
    if home != at.partition:
        return Reroute(key, home)
    known = seen(key)
    own = ticket_id_for(appeal, at.partition, at.offset, timezone)
    if known is not None and known != own:
        return Admit(duplicate_command(appeal, known, at.partition, at.offset, now), key, None)
    triage = route(appeal)
    return Admit(receive_command(appeal, own, triage, now), key, own if known is None else None)
