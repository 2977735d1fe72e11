"""What a request brings, read once at the edge: a JSON body (its size, media type and parse) and
path and query parameters the store could hold.

Every JSON endpoint reads its body with `read_json`, every lookup checks its parameters with
`check_parameters`; both raise `InputRefused`, which each surface answers in its own form
(the API's `ApiError`, the room's `{"error"}`, Open311's error list).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from schemas.base import escape_refused, refused_character, unstorable_error
from streams.codecs import MAX_INTAKE_BYTES

# The intake agent's bound on a record, so what HTTP accepts the topic accepts (appeals, Open311).
APPEAL_BODY_BYTES = MAX_INTAKE_BYTES
# Actions, commands and the room's requests: their longest text field is 4,000 characters.
REQUEST_BODY_BYTES = 64 * 1024
JSON_MEDIA_TYPE = "application/json"
# A body holding characters the store cannot (`schemas.base`) is 400, each field named: not a
# value to correct (422) but text to clean before sending it again.
UNSTORABLE_CODE = "unstorable_characters"
_UTF8 = ("utf-8", "utf8")


class InputRefused(Exception):
    """A body or parameter not taken: the status, a code for programs and a message for people."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def media_type(request: Request) -> tuple[str, str | None]:
    """The Content-Type's media type (lower case, "" when none is sent) and its charset, if named."""
    media, *parameters = request.headers.get("content-type", "").split(";")
    charset = None
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return media.strip().lower(), charset


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused (413) as soon as Content-Length or the bytes received pass `limit`."""
    declared = request.headers.get("content-length", "")
    # isdigit() alone passes "²", and int() refuses more than 4,300 digits: either was a 500.
    digits = declared.lstrip("0")
    if (
        declared.isascii()
        and declared.isdigit()
        and (len(digits) > len(str(limit)) or int(digits or 0) > limit)
    ):
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(body: bytes) -> Any:
    """UTF-8 JSON (as the intake codec reads a record), or 400 saying why it cannot be read."""
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputRefused(
            400, "invalid_json", f"请求体不是 UTF-8 编码（第 {exc.start + 1} 个字节）"
        ) from None
    except json.JSONDecodeError as exc:
        message = f"请求体不是合法的 JSON：{exc.msg}（第 {exc.lineno} 行第 {exc.colno} 列）"
        raise InputRefused(400, "invalid_json", message) from None
    except RecursionError:  # nesting deeper than the parser's stack: no request of ours nests so
        raise InputRefused(400, "invalid_json", "请求体的 JSON 嵌套过深") from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise InputRefused(400, "invalid_json", f"请求体的 JSON 无法读取：{str(exc)[:200]}") from None


async def read_json(request: Request, limit: int = REQUEST_BODY_BYTES) -> Any:
    """The body as JSON: 415 unless it is sent as application/json (UTF-8; a missing Content-Type
    is taken as JSON), 413 past `limit`, 400 when it cannot be parsed."""
    media, charset = media_type(request)
    if media not in ("", JSON_MEDIA_TYPE) or (charset is not None and charset not in _UTF8):
        message = "请以 Content-Type: application/json（UTF-8）发送"
        raise InputRefused(415, "unsupported_media_type", message)
    return parse_json(await read_body(request, limit))


def check_parameters(request: Request) -> None:
    """Path and query parameters (names and values) must hold only what the store can: a path
    naming such a thing names nothing that exists (404); a query parameter is a mistake (400).
    PostgreSQL refuses to even compare with such text, so this runs before any lookup."""
    for name, value in request.path_params.items():
        if (problem := _unstorable(name, value)) is not None:
            raise InputRefused(404, "not_found", f"没有这样的记录（{problem}）")
    for name, value in request.query_params.multi_items():
        if (problem := _unstorable(name, value)) is not None:
            raise InputRefused(400, UNSTORABLE_CODE, problem)


def _unstorable(name: str, value: object) -> str | None:
    """What is wrong with a parameter whose name or value the store cannot hold, naming it."""
    for text in (name, value):
        if isinstance(text, str) and (index := refused_character(text)) is not None:
            return f"{escape_refused(name)}: {unstorable_error(text, index).message()}"
    return None


def _too_large(limit: int) -> InputRefused:
    return InputRefused(413, "too_large", f"请求体超过 {limit} 字节")
