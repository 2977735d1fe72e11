"""The control room (指挥大厅): its live view folded from events, the wall screen's board, queues,
clocks, clusters, live rates and ticket search. `board` is imported from `domain.room.board`
(a face cannot hold a name that is also one of its submodules).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain import public_names

if TYPE_CHECKING:
    from domain.room.board import manual_item
    from domain.room.clocks import completed_on_time
    from domain.room.search import TicketFilter, find_tickets
    from domain.room.view import RoomTicket, RoomView

__all__ = [
    "RoomTicket",
    "RoomView",
    "TicketFilter",
    "completed_on_time",
    "find_tickets",
    "manual_item",
]

__getattr__ = public_names(
    __name__,
    {
        "RoomTicket": "view",
        "RoomView": "view",
        "TicketFilter": "search",
        "completed_on_time": "clocks",
        "find_tickets": "search",
        "manual_item": "board",
    },
)
