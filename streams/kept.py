"""Bytes kept in a record of our own (rejections, dead letters), bounded whatever they are.

The first `limit` bytes are kept as UTF-8 text when they are valid UTF-8 and hold no
character the contract refuses (`schemas.base`), else as base64; with the whole length and
SHA-256, so a record of any size and content yields one the producer and the store take.
Text is cut on a character boundary; JSON escaping at most doubles it.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Literal

from schemas.base import refused_character

VALUE_LIMIT = 256 * 1024
KEY_LIMIT = 4 * 1024


@dataclass(frozen=True, slots=True)
class Kept:
    text: str | None  # None: there were no bytes (no key, no value)
    encoding: Literal["utf-8", "base64"]
    length: int
    sha256: str
    truncated: bool


def keep(raw: bytes | None, limit: int = VALUE_LIMIT) -> Kept:
    data = raw or b""
    digest = hashlib.sha256(data).hexdigest()
    head = data[:limit]
    truncated = len(data) > limit
    text = _utf8_prefix(head, cut=truncated)
    if raw is None:
        return Kept(None, "utf-8", 0, digest, False)
    if text is not None and refused_character(text) is None:
        return Kept(text, "utf-8", len(data), digest, truncated)
    return Kept(base64.b64encode(head).decode("ascii"), "base64", len(data), digest, truncated)


def _utf8_prefix(head: bytes, cut: bool) -> str | None:
    """`head` as text; when it was cut, a character split at its end is left out."""
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if cut and exc.start >= len(head) - 3 and exc.reason == "unexpected end of data":
            return head[: exc.start].decode("utf-8")
        return None


def restore(text: str | None, encoding: Literal["utf-8", "base64"]) -> bytes | None:
    """The kept bytes back (the first `limit` of them when the original was truncated)."""
    if text is None:
        return None
    return base64.b64decode(text) if encoding == "base64" else text.encode("utf-8")
