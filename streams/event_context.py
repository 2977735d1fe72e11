"""Which consumed event a table write belongs to.

Faust writes a table's changelog record to the partition of the stream's *current event* (a
context variable its stream iteration sets). An agent that takes a batch and writes its tables
after the batch's outputs are acknowledged (`agents.outbox`) must say, for each write, which
event it belongs to: `current()` as a record is processed, `make_current(event)` as its write
reaches the table. Faust has no public setter; this module is the one place that uses its
context variable.
"""

from __future__ import annotations

import weakref

from faust.streams import _current_event, current_event
from faust.types import EventT


def current() -> EventT[bytes] | None:
    """The event being processed in this task, or None outside a stream."""
    event: EventT[bytes] | None = current_event()
    return event


def make_current(event: EventT[bytes] | None) -> None:
    """Make `event` (a Faust event, or None) the one the next table writes belong to."""
    _current_event.set(weakref.ref(event) if event is not None else None)
