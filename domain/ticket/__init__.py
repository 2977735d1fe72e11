"""The ticket aggregate (工单): its state, the fold of its events, the decisions on its commands,
the work orders it sends to units, and the store's consistency with its log.

`decide` and `fold` are imported from their own modules (`domain.ticket.decide`,
`domain.ticket.fold`): a package attribute named like a submodule is the submodule once that
is imported, so the face cannot hold them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain import public_names

if TYPE_CHECKING:
    from domain.ticket.consistency import (
        Difference,
        accepted_log,
        compare_events,
        compare_states,
        folded_tickets,
    )
    from domain.ticket.decide import Decision, Refusal
    from domain.ticket.fold import (
        OPEN_STATUSES,
        WORKING_STATUSES,
        AssignmentStatus,
        FoldError,
        TicketState,
        TicketStatus,
    )
    from domain.ticket.orders import open_order, order_messages

__all__ = [
    "AssignmentStatus",
    "Decision",
    "Difference",
    "FoldError",
    "OPEN_STATUSES",
    "Refusal",
    "TicketState",
    "TicketStatus",
    "WORKING_STATUSES",
    "accepted_log",
    "compare_events",
    "compare_states",
    "folded_tickets",
    "open_order",
    "order_messages",
]

__getattr__ = public_names(
    __name__,
    {
        "AssignmentStatus": "fold",
        "Decision": "decide",
        "Difference": "consistency",
        "FoldError": "fold",
        "OPEN_STATUSES": "fold",
        "Refusal": "decide",
        "TicketState": "fold",
        "TicketStatus": "fold",
        "WORKING_STATUSES": "fold",
        "accepted_log": "consistency",
        "compare_events": "consistency",
        "compare_states": "consistency",
        "folded_tickets": "consistency",
        "open_order": "orders",
        "order_messages": "orders",
    },
)
