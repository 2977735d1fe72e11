"""Bytes ⇄ pydantic at the edge of every topic; bad intake bytes become rejections."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, TypeAdapter, ValidationError

from schemas.appeal import Appeal
from schemas.base import escape_refused
from schemas.commands import TicketCommand
from schemas.events import TicketEvent
from schemas.rejections import (
    KEY_LIMIT_BYTES,
    MESSAGE_LIMIT_CHARS,
    ORIGINAL_LIMIT_BYTES,
    AppealRejected,
    RejectionReason,
    SourcePosition,
)
from streams.kept import keep

MAX_INTAKE_BYTES = 256 * 1024
# How much of a key or of a field's path a message quotes: a key can be ~1 MB.
QUOTED_CHARS = 200
COMMAND: TypeAdapter[TicketCommand] = TypeAdapter(TicketCommand)
EVENT: TypeAdapter[TicketEvent] = TypeAdapter(TicketEvent)


def encode(model: BaseModel) -> bytes:
    return model.model_dump_json().encode()


def decode_command(raw: bytes) -> TicketCommand:
    return COMMAND.validate_json(raw)


def decode_event(raw: bytes) -> TicketEvent:
    return EVENT.validate_json(raw)


def encode_event(event: TicketEvent) -> bytes:
    return EVENT.dump_json(event)


class Refusal(Protocol):
    """Why a record is not an appeal: a reason code and a message a person can act on."""

    @property
    def reason(self) -> RejectionReason: ...

    @property
    def message(self) -> str: ...


class IntakeRejection(Exception):
    def __init__(self, reason: RejectionReason, message: str) -> None:
        super().__init__(message)
        self.reason, self.message = reason, message


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    # Parsers disagree on which of two equal names wins (first, last, error): refuse the ambiguity.
    data: dict[str, object] = {}
    for name, value in pairs:
        if name in data:
            raise ValueError(f"duplicate name {name!r} in an object")
        data[name] = value
    return data


def decode_appeal(raw: bytes | None, key: bytes | None, now: datetime | None = None) -> Appeal:
    """Parse one intake record; raises `IntakeRejection` with a reason code and a human message.

    With `now`, an appeal dated more than a day ahead of it is refused (see `schemas.appeal`)."""
    if raw is None:
        raise IntakeRejection("invalid_json", "empty record (no value)")
    if len(raw) > MAX_INTAKE_BYTES:
        raise IntakeRejection("too_large", f"record of {len(raw)} bytes exceeds {MAX_INTAKE_BYTES}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IntakeRejection("invalid_utf8", f"not UTF-8 at byte {exc.start}") from exc
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise IntakeRejection(
            "invalid_json", f"invalid JSON: {exc.msg} at line {exc.lineno} col {exc.colno}"
        ) from exc
    except (ValueError, RecursionError) as exc:
        # Not a syntax error but still unusable: a duplicate name, an integer of more than 4300
        # digits, nesting deeper than the parser's stack. Uncaught, these stopped the intake agent.
        raise IntakeRejection("invalid_json", f"invalid JSON: {str(exc)[:200]}") from exc
    try:
        appeal = Appeal.model_validate(data, context={"now": now} if now is not None else None)
    except ValidationError as exc:
        raise IntakeRejection("schema_violation", _summarise(exc)) from exc
    if key is not None and key.decode("utf-8", "replace") != appeal.intake_key:
        shown = repr(key[:QUOTED_CHARS]) + ("…" if len(key) > QUOTED_CHARS else "")
        raise IntakeRejection(
            "bad_key", f"key {shown} does not match channel:source_id {appeal.intake_key!r}"
        )
    return appeal


def _summarise(exc: ValidationError) -> str:
    """The first problems by field path; a path may quote a JSON name, so it is bounded and escaped."""
    parts = [f"{_path(e['loc'])}: {e['msg']}" for e in exc.errors()[:5]]
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _path(loc: tuple[int | str, ...]) -> str:
    path = escape_refused(".".join(map(str, loc))) or "(root)"
    return path[:QUOTED_CHARS] + ("…" if len(path) > QUOTED_CHARS else "")


def bounded_message(message: str) -> str:
    """A message as a rejection carries it: refused characters escaped, at most 2,000 characters."""
    shown = escape_refused(message)
    return shown if len(shown) <= MESSAGE_LIMIT_CHARS else shown[: MESSAGE_LIMIT_CHARS - 1] + "…"


def rejection(
    raw: bytes | None,
    key: bytes | None,
    error: Refusal,
    source: SourcePosition,
    now: datetime,
    rejection_id: str | None = None,
) -> AppealRejected:
    """A rejection that keeps the original bytes, so it can be fixed and replayed.

    Whatever the record (any size, any bytes), the rejection fits the producer: the first
    256 KiB of the value as text (JSON escaping at most doubles it) or base64 (4/3), the first
    4 KiB of the key, a bounded message (see `schemas.rejections`)."""
    original, kept_key = keep(raw, ORIGINAL_LIMIT_BYTES), keep(key, KEY_LIMIT_BYTES)
    return AppealRejected(
        rejection_id=rejection_id or f"{source.topic}:{source.partition}:{source.offset}",
        reason=error.reason,
        message=bounded_message(error.message),
        key=kept_key.text,
        key_encoding=kept_key.encoding,
        key_truncated=kept_key.truncated,
        original=original.text or "",
        original_encoding=original.encoding,
        original_length=original.length,
        original_sha256=original.sha256,
        original_truncated=original.truncated,
        source=source,
        rejected_at=now,
    )
