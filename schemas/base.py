"""Shared model configuration and field types for the wire contract.

Every payload derives from `WireModel`, which refuses, in any string of any field (nested in
lists, tuples, sets and dicts, dict keys included), the characters PostgreSQL's jsonb/text or
XML (the XLSX exports) cannot hold: one of them would otherwise pass the contract and stop
the sink, or an export, for every ticket after it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Protocol, Self, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError


def _require_timezone(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must carry a timezone (e.g. +08:00 or Z)")
    return value


# What PostgreSQL (jsonb, text) or XML cannot hold: C0 controls but tab, LF and CR; lone
# surrogates (JSON's "\\ud800" decodes to one); the non-characters U+FFFE and U+FFFF.
REFUSED_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# The error type of a refused character, so an API can answer it apart from other mistakes.
UNSTORABLE = "unstorable_character"
_UNSTORABLE_MESSAGE = "含有无法保存的{kind} {character}（第 {position} 个字符）"
_SHOWN_KEY_CHARS = 100
Loc = tuple[str | int, ...]
_search = REFUSED_CHARACTERS.search
# In JSON text a refused character can only be escaped (`\u0001`, `\b`, `\f`, `\ud800`: a raw
# control character is invalid JSON, and so is a surrogate's UTF-8) or, for U+FFFE and U+FFFF,
# written as itself. Bytes holding none of these decode to strings without one.
_MAY_HOLD_REFUSED = re.compile(rb"\\[ubf]|\xef\xbf[\xbe\xbf]")
_SCANNED = "shaobao.refused_characters_scanned"  # in the validation context: the bytes are clean
_CONTAINERS = (list, tuple, set, frozenset, dict)
T = TypeVar("T", covariant=True)


def refused_character(text: str) -> int | None:
    """The index of the first character the store cannot hold, or None."""
    found = REFUSED_CHARACTERS.search(text)
    return None if found is None else found.start()


def escape_refused(text: str) -> str:
    """`text` with each refused character written as `\\uXXXX`: for messages that quote input."""
    return REFUSED_CHARACTERS.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def is_unstorable(exc: ValidationError) -> bool:
    """Whether any of the errors is a refused character (the APIs answer those with 400)."""
    return any(error["type"] == UNSTORABLE for error in exc.errors())


def unstorable_error(text: str, index: int) -> PydanticCustomError:
    """The error for the refused character at `index` of `text`, named and placed (1-based)."""
    code = ord(text[index])
    kind = "控制字符" if code < 0x20 else "孤立代理字符" if 0xD800 <= code <= 0xDFFF else "非字符"
    context = {"kind": kind, "character": f"U+{code:04X}", "position": index + 1}
    return PydanticCustomError(UNSTORABLE, _UNSTORABLE_MESSAGE, context)


def _holds_refused(value: object) -> bool:
    """Whether a field's value holds a refused character: one regex search per string (this
    runs on every decode of every payload); nested models check themselves."""
    if isinstance(value, str):
        return _search(value) is not None
    if isinstance(value, dict):
        return any(_holds_refused(key) or _holds_refused(item) for key, item in value.items())
    if isinstance(value, _CONTAINERS):
        return any(_holds_refused(item) for item in value)
    return False


def _refused_in(value: object, loc: Loc) -> Iterator[InitErrorDetails]:
    """An error for each string in `value` holding a refused character (the first one of it).

    Nested models are not entered: each `WireModel` checks its own fields."""
    if isinstance(value, str):
        found = REFUSED_CHARACTERS.search(value)
        if found is not None:
            yield {"type": unstorable_error(value, found.start()), "loc": loc, "input": value}
    elif isinstance(value, dict):
        for key, item in value.items():
            shown = escape_refused(key)[:_SHOWN_KEY_CHARS] if isinstance(key, str) else key
            if isinstance(key, str) and (index := refused_character(key)) is not None:
                yield {"type": unstorable_error(key, index), "loc": (*loc, shown, "[key]"), "input": key}
            yield from _refused_in(item, (*loc, shown))
    elif isinstance(value, _CONTAINERS):
        for index, item in enumerate(value):
            yield from _refused_in(item, (*loc, index))


def _surrogates_named(exc: ValidationError, title: str) -> ValidationError | None:
    """pydantic refuses a lone surrogate in a constrained string as `string_unicode`, without
    saying which character: the same error as every other refused character instead."""
    errors = exc.errors()
    if not any(e["type"] == "string_unicode" for e in errors):
        return None
    details: list[InitErrorDetails] = []
    for error in errors:
        value, kind = error["input"], PydanticCustomError(error["type"], error["msg"])
        if error["type"] == "string_unicode" and isinstance(value, str):
            index = refused_character(value)
            kind = kind if index is None else unstorable_error(value, index)
        details.append({"type": kind, "loc": error["loc"], "input": value})
    return ValidationError.from_exception_data(title, details)


def _refuse_numbers(value: object) -> object:
    # pydantic's lax mode reads a number as Unix time; the published schemas say date-time string.
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("timestamp must be an ISO 8601 date-time string, e.g. 2026-03-02T09:15:00+08:00")
    return value


AwareDatetime = Annotated[datetime, BeforeValidator(_refuse_numbers), AfterValidator(_require_timezone)]


class WireModel(BaseModel):
    """A payload we own: immutable, unknown fields are an error, and no string in it holds a
    character the store cannot (`REFUSED_CHARACTERS`), each refused with its field's path."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)

    @model_validator(mode="wrap")
    @classmethod
    def _storable(cls, data: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Self:
        try:
            model: Self = handler(data)
        except ValidationError as exc:
            named = _surrogates_named(exc, cls.__name__)
            if named is None:
                raise
            raise named from None
        if info.context is not None and info.context.get(_SCANNED) is True:
            return model  # the JSON bytes it came from hold no refused character (`validate_json`)
        for value in model.__dict__.values():
            if value.__class__ is str:  # the common case first, without a call
                if _search(value) is None:
                    continue
            elif not _holds_refused(value):
                continue
            fields = model.__dict__.items()
            refused = [error for name, item in fields for error in _refused_in(item, (name,))]
            raise ValidationError.from_exception_data(cls.__name__, refused)
        return model


class JsonValidator(Protocol[T]):
    def validate_json(self, data: Any, /, *, context: dict[str, Any] | None = None) -> T: ...


def validate_json(validator: JsonValidator[T], data: bytes | None) -> T:
    """`validator.validate_json(data)`, the same answer sooner: when the bytes cannot hold a
    character the store refuses, the models skip looking for one in every string they hold
    (for the long readers of a log: `shaobao replay`, `shaobao verify`). A record with no
    value (a tombstone) is refused as pydantic refuses it, with a `ValidationError`."""
    clean = isinstance(data, bytes) and _MAY_HOLD_REFUSED.search(data) is None
    return validator.validate_json(data, context={_SCANNED: True} if clean else None)
