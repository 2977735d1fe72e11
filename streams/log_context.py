"""What a log line is about, carried by context variables: the JSON log formatter reads them,
the ops sensor sets them per event, so agent bodies log ticket ids without passing them."""

from __future__ import annotations

from contextvars import ContextVar

# The ticket whose event or command the current task is processing.
ticket_id: ContextVar[str | None] = ContextVar("shaobao_ticket_id", default=None)
# The agent whose stream the current task is iterating.
agent: ContextVar[str | None] = ContextVar("shaobao_agent", default=None)
