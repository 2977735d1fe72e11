"""GeoReport v2 documents in JSON or XML: a root element holding one element per item."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Literal
from xml.etree import ElementTree as ET  # noqa: S405 - we only build XML, never parse input

from starlette.responses import Response

from domain.open311 import FieldValue
from web.api.intake import RETRY_AFTER_S

Format = Literal["json", "xml"]
FORMATS: tuple[Format, ...] = ("json", "xml")
MEDIA_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
Item = Mapping[str, FieldValue | Sequence[str]]
# Characters XML 1.0 cannot carry even escaped; a citizen's text may hold them (pasted controls).
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: FieldValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def xml_document(root: str, item: str | None, items: Sequence[Item]) -> bytes:
    """`<root><item><field>…</field></item>…</root>`; with no `item`, one item's fields sit in root.
    A list value becomes an element of its own with no children (service attributes)."""
    top = ET.Element(root)
    for entry in items:
        parent = ET.SubElement(top, item) if item else top
        for name, value in entry.items():
            child = ET.SubElement(parent, name)
            if not isinstance(value, Sequence) or isinstance(value, str):
                child.text = xml_text(value)
    body = ET.tostring(top, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode("utf-8")


def render(
    fmt: Format,
    root: str,
    item: str | None,
    items: Sequence[Item],
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """JSON is the list of items (or the one item when there is no item element), as the spec shows."""
    if fmt == "xml":
        content = xml_document(root, item, items)
    else:
        shown: object = list(items) if item else items[0]
        content = json.dumps(shown, ensure_ascii=False).encode("utf-8")
    return Response(content, status_code=status_code, headers=headers, media_type=MEDIA_TYPES[fmt])


def render_error(fmt: Format, code: int, description: str) -> Response:
    """The spec's error document, `[{"code", "description"}]` / `<errors><error>…`; HTTP status = code."""
    headers = {"Retry-After": RETRY_AFTER_S} if code == 503 else None
    return render(fmt, "errors", "error", [{"code": code, "description": description}], code, headers)
