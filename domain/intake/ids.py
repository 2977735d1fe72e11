"""Intake decisions: ticket ids and what to do with an appeal that arrived."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from schemas.appeal import Appeal
from schemas.commands import ReceiveAppeal, RecordDuplicate
from schemas.triage import TriageDecision


def ticket_id_for(appeal: Appeal, partition: int, offset: int, timezone: str) -> str:
    """A ticket id a person can read on the phone: local date, partition, intake offset.

    Deterministic from the intake record (the same record always yields the same
    id, also after a crash), unique across partitions, and sortable by day:
    `20260302-03-000123`.
    """
    local_day = appeal.received_at.astimezone(ZoneInfo(timezone)).strftime("%Y%m%d")
    return f"{local_day}-{partition:02d}-{offset:06d}"


def receive_command(appeal: Appeal, ticket_id: str, triage: TriageDecision, now: datetime) -> ReceiveAppeal:
    """The command that opens a ticket; its id is the intake key, so a replay is recognised."""
    return ReceiveAppeal(
        command_id=f"intake:{appeal.intake_key}",
        ticket_id=ticket_id,
        issued_at=now,
        appeal=appeal,
        triage=triage,
    )


def duplicate_command(
    appeal: Appeal, ticket_id: str, partition: int, offset: int, now: datetime
) -> RecordDuplicate:
    """The command noting a duplicate; one per intake record, so replays do not double-count."""
    return RecordDuplicate(
        command_id=f"duplicate:{appeal.intake_key}:{partition}:{offset}",
        ticket_id=ticket_id,
        issued_at=now,
        appeal=appeal,
    )
