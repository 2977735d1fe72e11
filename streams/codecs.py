"""Bytes ⇄ pydantic at the edge of every topic; bad intake bytes become rejections."""

from __future__ import annotations

import base64
import json
from datetime import datetime

from pydantic import BaseModel, TypeAdapter, ValidationError

from schemas.appeal import Appeal
from schemas.commands import TicketCommand
from schemas.events import TicketEvent
from schemas.rejections import AppealRejected, RejectionReason, SourcePosition

MAX_INTAKE_BYTES = 256 * 1024
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
        raise IntakeRejection(
            "bad_key", f"key {key!r} does not match channel:source_id {appeal.intake_key!r}"
        )
    return appeal


def _summarise(exc: ValidationError) -> str:
    parts = [f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}" for e in exc.errors()[:5]]
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def rejection(
    raw: bytes | None, key: bytes | None, error: IntakeRejection, source: SourcePosition, now: datetime
) -> AppealRejected:
    """A rejection that keeps the original bytes, so it can be fixed and replayed."""
    payload = raw or b""
    try:
        original, encoding = payload.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        original, encoding = base64.b64encode(payload).decode("ascii"), "base64"
    return AppealRejected(
        rejection_id=f"{source.topic}:{source.partition}:{source.offset}",
        reason=error.reason,
        message=error.message,
        key=key.decode("utf-8", "replace") if key is not None else None,
        original=original,
        original_encoding=encoding,
        source=source,
        rejected_at=now,
    )
