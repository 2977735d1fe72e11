"""Structured logs: one JSON object per line, for a log shipper to index without parsing.

Every line has `time` (UTC, ISO 8601), `level`, `logger` and `message`; `ticket_id` and
`agent` when known, from the call's `extra=` or else from the context the ops sensor sets
for the event being processed; any other `extra=` field as given; `exception` with the
traceback. Named `json_logs`, not `logging`, so that it never shadows the standard module.
"""

from __future__ import annotations

import json
import logging
import logging.config
import sys
from datetime import UTC, datetime
from typing import IO, Any

from streams import log_context

# Attributes every LogRecord has: anything else on a record came from `extra=`.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        ticket_id = getattr(record, "ticket_id", None) or log_context.ticket_id.get()
        if ticket_id:
            entry["ticket_id"] = ticket_id
        agent = getattr(record, "agent", None) or log_context.agent.get()
        if agent:
            entry["agent"] = agent
        for name, value in record.__dict__.items():
            if name not in _STANDARD and name not in entry:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # Chinese stays readable; anything not JSON (a datetime, an exception) is its str().
        return json.dumps(entry, ensure_ascii=False, default=str)


def logging_config(level: str | int = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` with one JSON handler on stderr; also what
    `faust.Worker(logging_config=...)` takes, so Faust's own lines come out as JSON too."""
    level_name = logging.getLevelName(level) if isinstance(level, int) else level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
        },
        "root": {"level": level_name, "handlers": ["json"]},
    }


def setup_json_logging(level: str | int = "INFO", stream: IO[str] | None = None) -> None:
    """Replace the root logger's handlers with one writing JSON lines (stderr by default)."""
    config = logging_config(level)
    if stream is not None and stream is not sys.stderr:
        config["handlers"]["json"]["stream"] = stream
    logging.config.dictConfig(config)
