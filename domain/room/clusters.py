"""多人反映 and 重复来电 as the control room sees them among the tickets it holds.

A cluster: open tickets of the same category in the same town received within
`CLUSTER_WINDOW`, at least `CLUSTER_MIN` of them, or a ticket others were merged into.
A repeat caller: one phone number behind two or more of the tickets held.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.privacy.masking import mask_phone
from domain.room.view import RoomTicket

CLUSTER_WINDOW = timedelta(hours=24)
CLUSTER_MIN = 3


@dataclass(frozen=True)
class Cluster:
    category: str
    town: str
    size: int
    ticket_ids: tuple[str, ...]
    merged: bool  # others were merged into one ticket (AppealMerged)
    last_received_at: datetime


@dataclass(frozen=True)
class RepeatCaller:
    phone_masked: str
    count: int
    ticket_ids: tuple[str, ...]
    categories: tuple[str, ...]


def clusters(tickets: Iterable[RoomTicket], now: datetime) -> list[Cluster]:
    """Largest first."""
    groups: dict[tuple[str, str], list[RoomTicket]] = {}
    found: list[Cluster] = []
    for ticket in tickets:
        state = ticket.state
        if not state.is_open:
            continue
        if state.citizens:
            found.append(
                Cluster(
                    category=state.category or state.triage.category,
                    town=state.town or state.triage.town or "",
                    size=1 + len(state.citizens),
                    ticket_ids=(state.ticket_id,),
                    merged=True,
                    last_received_at=max(c.received_at for c in state.citizens),
                )
            )
        if now - state.received_at <= CLUSTER_WINDOW:
            key = (state.category or state.triage.category, state.town or state.triage.town or "")
            groups.setdefault(key, []).append(ticket)
    for (category, town), members in groups.items():
        if town and len(members) >= CLUSTER_MIN:
            members.sort(key=lambda t: t.state.received_at, reverse=True)
            found.append(
                Cluster(
                    category=category,
                    town=town,
                    size=len(members),
                    ticket_ids=tuple(t.state.ticket_id for t in members),
                    merged=False,
                    last_received_at=members[0].state.received_at,
                )
            )
    return sorted(found, key=lambda c: (-c.size, c.category, c.town))


def repeat_callers(tickets: Iterable[RoomTicket]) -> list[RepeatCaller]:
    """Most tickets first; only the masked number leaves this function."""
    by_phone: dict[str, list[RoomTicket]] = {}
    for ticket in tickets:
        phone = _digits(ticket.state.appeal.caller.phone or "")
        if len(phone) >= 7:
            by_phone.setdefault(phone, []).append(ticket)
    found = [
        RepeatCaller(
            phone_masked=mask_phone(phone),
            count=len(members),
            ticket_ids=tuple(t.state.ticket_id for t in members),
            categories=tuple(sorted({t.state.category or t.state.triage.category for t in members})),
        )
        for phone, members in by_phone.items()
        if len(members) >= 2
    ]
    return sorted(found, key=lambda r: (-r.count, r.phone_masked))


def _digits(phone: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", phone) if ch.isdigit())
