"""Work orders on the units' topics against the orders the event log calls for.

Expected orders come from the orders agent's own rule: each ticket's held events folded in
order, and `domain.ticket.orders.order_messages(before, after, event, jurisdiction)` for each
(`agents/orders.py` calls exactly that, once per event version). An order's id is
`<event_id>:<unit>` and it goes to `units.<unit>.orders`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bench.chaos.audit_log import LogRecord, TicketLog
from domain.jurisdiction import Jurisdiction
from domain.ticket import order_messages

UnitOrder = tuple[str, str]  # (unit, order id)


@dataclass(frozen=True)
class OrderCounts:
    conflicting: int  # (unit, order id) held on the unit's topic with two different payloads
    missing: int  # (unit, order id) the log calls for that the unit's topic does not hold


def expected_orders(
    tickets: Mapping[str, TicketLog], jurisdiction: Jurisdiction, until: datetime
) -> set[UnitOrder]:
    """The orders the log's events logged up to `until` call for; later events are not owed yet."""
    expected: set[UnitOrder] = set()
    for log in tickets.values():
        for step in log.folded():
            if step.logged_at > until:
                break
            orders = order_messages(step.before, step.after, step.event, jurisdiction)
            expected.update((order.unit, order.order_id) for order in orders)
    return expected


def sent_orders(orders: Mapping[str, Sequence[LogRecord]]) -> dict[UnitOrder, set[bytes]]:
    """Each order id on each unit's topic with the distinct payloads held under it."""
    sent: dict[UnitOrder, set[bytes]] = defaultdict(set)
    for unit, records in orders.items():
        for record in records:
            order_id = _order_id(record.value)
            if order_id is not None:
                sent[(unit, order_id)].add(record.value or b"")
    return sent


def order_counts(
    tickets: Mapping[str, TicketLog],
    orders: Mapping[str, Sequence[LogRecord]],
    jurisdiction: Jurisdiction,
    until: datetime,
) -> OrderCounts:
    sent = sent_orders(orders)
    conflicting = sum(1 for payloads in sent.values() if len(payloads) > 1)
    missing = len(expected_orders(tickets, jurisdiction, until) - sent.keys())
    return OrderCounts(conflicting=conflicting, missing=missing)


def _order_id(value: bytes | None) -> str | None:
    try:
        order = json.loads(value or b"")
    except ValueError:
        return None  # not an order at all: nothing the orders agent wrote
    found = order.get("order_id") if isinstance(order, dict) else None
    return found if isinstance(found, str) else None
