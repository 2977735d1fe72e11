"""Commands on `tickets.commands` (imperative; keyed by ticket_id).

Every command carries a deterministic `command_id`, so a command processed
again after a crash or rebalance is recognised and changes nothing.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from schemas.appeal import Appeal
from schemas.base import AwareDatetime, WireModel
from schemas.triage import TriageDecision


class _Command(WireModel):
    schema_version: Literal[1] = 1
    command_id: str = Field(min_length=1)
    ticket_id: str = Field(min_length=1)
    issued_at: AwareDatetime


class ReceiveAppeal(_Command):
    """Open a ticket for a new appeal, with the router's decision."""

    type: Literal["receive_appeal"] = "receive_appeal"
    appeal: Appeal
    triage: TriageDecision


class RecordDuplicate(_Command):
    """The same `channel:source_id` arrived again: note it on the existing ticket."""

    type: Literal["record_duplicate"] = "record_duplicate"
    appeal: Appeal


TicketCommand = Annotated[ReceiveAppeal | RecordDuplicate, Field(discriminator="type")]
