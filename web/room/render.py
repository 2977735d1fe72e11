"""The control room's JSON: one ticket's page, its timeline, and the reference names.

The caller is masked here as on the units' orders: the wall screen is seen by visitors.
The browser puts every value in with `textContent`; nothing here is HTML.
"""

from __future__ import annotations

import json
from typing import Any

from domain.jurisdiction import Jurisdiction
from domain.privacy import masked_caller, shown_address, shown_text
from domain.room import RoomTicket, manual_item
from domain.ticket import TicketStatus
from web.room.live import to_json

# What the timeline leaves out of an event: the appeal and the caller are on the page once,
# masked; the clocks are shown as the ticket's limits; the rest is in the header.
_TIMELINE_HIDDEN = frozenset(
    {"schema_version", "event_id", "ticket_id", "command_id", "appeal", "triage", "clocks", "citizen"}
)


def ticket_page(ticket: RoomTicket, timeline: list[str], jurisdiction: Jurisdiction) -> dict[str, Any]:
    state = ticket.state
    caller = masked_caller(state.appeal.caller, state.triage.reporter_protected)
    page: dict[str, Any] = {
        "ticket_id": state.ticket_id,
        "version": state.version,
        "status": state.status.value,
        "channel": state.appeal.channel,
        "intake_key": state.appeal.intake_key,
        "appeal_type": state.triage.appeal_type,
        "urgency": state.triage.urgency,
        "category": state.category or state.triage.category,
        "town": state.town or state.triage.town,
        "lead": state.lead,
        "co": list(state.co),
        "received_at": state.received_at.isoformat(),
        "updated_at": state.updated_at.isoformat(),
        "text": shown_text(state),
        "address": shown_address(state),
        "caller": caller.model_dump() if caller else None,
        "reply": state.reply,
        "mark": (mark.value if (mark := ticket.mark()) else None),
        "on_time": ticket.on_time,
        "rework_count": state.rework_count,
        "duplicates": state.duplicates,
        "merged_citizens": len(state.citizens),
    }
    page |= to_json(
        {
            "assignments": state.assignments,
            "clocks": state.clocks,
            "whistles": state.whistles,
            "callbacks": state.callbacks,
            "pending_return": state.pending_return,
            "pending_extension": state.pending_extension,
        }
    )
    page["manual"] = (
        to_json(manual_item(ticket, jurisdiction)) if state.status == TicketStatus.MANUAL else None
    )
    page["triage"] = {
        "explanation": list(state.triage.explanation),
        "suggestion": list(state.triage.suggestion),
        "confidence": state.triage.confidence,
        "town_resolution": state.triage.town_resolution,
        "type_confidence": state.triage.type_confidence,
        "caller_withheld": state.triage.reporter_protected,
        "second_category": state.triage.second_category,
    }
    page["timeline"] = [timeline_entry(raw) for raw in timeline]
    return page


def timeline_entry(raw: str) -> dict[str, Any]:
    event = json.loads(raw)
    details = {
        k: v for k, v in event.items() if k not in _TIMELINE_HIDDEN | {"type", "version", "occurred_at"}
    }
    return {
        "version": event["version"],
        "type": event["type"],
        "occurred_at": event["occurred_at"],
        "details": details,
    }


def reference(jurisdiction: Jurisdiction) -> dict[str, Any]:
    """Code → name for units, towns and categories, and each town's kind."""
    return {
        "jurisdiction": jurisdiction.jurisdiction.name,
        "units": {code: jurisdiction.unit_name(code) for code in jurisdiction.unit_codes},
        "towns": {t.code: t.name for t in jurisdiction.towns},
        "categories": {c.code: c.name for c in jurisdiction.categories},
    }
