"""`shaobao verify`: the store against `tickets.events` (see `domain.consistency`).

Besides each ticket's state, the columns the queries filter on must be those the state
gives (`infra.store`'s projection), so a row edited by hand is caught too."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from domain.consistency import Difference, compare_events, compare_states, folded_tickets
from domain.ticket import TicketState
from infra.event_log import read_ticket_events
from infra.store import ticket_row
from schemas.events import TICKET_EVENT, TicketEvent

# The tickets columns `ticket_row` fills, in its order (dispatched_at is checked apart).
ROW_COLUMNS = (
    "ticket_id version status channel appeal_type category urgency town lead_unit co_units received_at "
    "updated_at state signed_at completed_at closed_at resolution satisfaction rework_count merged_into "
    "returns extensions limits flags"
).split()


async def verify(bootstrap: str, events_topic: str, database_url: str) -> list[Difference]:
    topic = await read_ticket_events(bootstrap, events_topic)
    conn = await asyncpg.connect(database_url)
    try:
        stored_events = await _stored_events(conn)
        rows = {row["ticket_id"]: row for row in await conn.fetch("SELECT * FROM tickets")}
    finally:
        await conn.close()
    expected, broken = folded_tickets(topic)
    stored_states = {tid: TicketState.model_validate_json(row["state"]) for tid, row in rows.items()}
    found = [*broken, *compare_events(topic, stored_events), *compare_states(expected, stored_states)]
    found += _row_differences(expected, rows, topic)
    return found


async def _stored_events(conn: asyncpg.Connection) -> dict[str, TicketEvent]:
    rows = await conn.fetch("SELECT event_id, ticket_id, version, payload FROM ticket_events")
    stored: dict[str, TicketEvent] = {}
    for row in rows:
        event = TICKET_EVENT.validate_json(row["payload"])
        # The columns beside the payload are what queries use: they must agree with it.
        if (event.event_id, event.ticket_id, event.version) != (
            row["event_id"],
            row["ticket_id"],
            row["version"],
        ):
            event = event.model_copy(update={"event_id": f"{row['event_id']} (columns disagree)"})
        stored[row["event_id"]] = event
    return stored


def _row_differences(
    expected: dict[str, TicketState], rows: dict[str, Any], topic: list[TicketEvent]
) -> list[Difference]:
    first_dispatch: dict[str, Any] = {}
    for event in topic:
        if event.type == "ticket_dispatched":
            at = first_dispatch.get(event.ticket_id)
            first_dispatch[event.ticket_id] = event.occurred_at if at is None else min(at, event.occurred_at)
    found = []
    for ticket_id, state in expected.items():
        row = rows.get(ticket_id)
        if row is None:
            continue  # reported as a missing ticket
        wanted = dict(zip(ROW_COLUMNS, ticket_row(state), strict=True))
        wanted["dispatched_at"] = first_dispatch.get(ticket_id)
        differing = [name for name, value in wanted.items() if not _same(name, row[name], value)]
        if differing:
            found.append(Difference("row_differs", ticket_id, ", ".join(differing)))
    return found


def _same(column: str, stored: Any, wanted: Any) -> bool:
    if column in ("state", "limits"):
        return bool(json.loads(stored) == json.loads(wanted))
    if column == "co_units":
        return list(stored) == list(wanted)
    return bool(stored == wanted)
