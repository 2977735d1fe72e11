"""The bad-input corpus (`tests/data/bad_inputs/inputs.jsonl`) as Kafka records.

Each line names a `kind`, what must become of it (`expect`: `ticket`, `duplicate`, or the
rejection reason code) and how to build it: `appeal` (fields laid over a good appeal), `drop`
(fields removed from it), `json` (any JSON value), `raw` (text sent as written), or `generate`
(built here: sizes, bytes in other encodings, times relative to now). `{id}` in a record
becomes a per-run, per-kind id, so the corpus can run against a shared pipeline. The key is
`channel:source_id` of the record when it has them, `bad:<id>` otherwise, unless `key` (null:
no key) or `key_b64` says otherwise.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parent / "data" / "bad_inputs" / "inputs.jsonl"
MAX_INTAKE_BYTES = 256 * 1024
GOOD_TEXT = "来电人反映：白马桥街道凤凰城小区门口下水道堵塞，污水外溢到路面，臭味很大，请相关部门疏通。"
MARK = "\u2603MARK\u2603"


@dataclass(frozen=True)
class BadInput:
    kind: str
    expect: str
    key: bytes | None
    value: bytes | None
    source_id: str | None  # what a ticket would carry, when the record has one


def good_appeal(ident: str, **overrides: Any) -> dict[str, Any]:
    base = {
        "channel": "phone",
        "source_id": ident,
        "received_at": "2026-03-02T09:15:00+08:00",
        "text": GOOD_TEXT,
        "address": "凤凰城小区",
        "caller": {"name": "向先生", "phone": "18939595216"},
    }
    return {**base, **overrides}


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def _with_bytes(ident: str, inserted: bytes) -> bytes:
    return _dumps(good_appeal(ident, text=GOOD_TEXT + MARK)).replace(MARK.encode(), inserted)


def _of_size(ident: str, size: int) -> bytes:
    shell = _dumps(good_appeal(ident, text=""))
    return _dumps(good_appeal(ident, text="a" * (size - len(shell))))


def _generators(run: str, now: datetime) -> dict[str, Callable[[str], bytes]]:
    later = (now + timedelta(days=3)).isoformat()
    reordered = dict(reversed(list({**good_appeal(f"{run}-dup"), "schema_version": 1}.items())))
    return {
        "huge_integer": lambda i: _dumps(good_appeal(i))[:-1] + b', "n": 1' + b"0" * 5000 + b"}",
        "deep_nesting": lambda i: b"[" * 100_000 + b"]" * 100_000,
        "invalid_utf8": lambda i: _with_bytes(i, b"\xff\xfe"),
        "gbk": lambda i: json.dumps(good_appeal(i), ensure_ascii=False).encode("gbk"),
        "gb18030": lambda i: json.dumps(good_appeal(i, text="𠮷野家€"), ensure_ascii=False).encode("gb18030"),
        "utf16": lambda i: json.dumps(good_appeal(i), ensure_ascii=False).encode("utf-16"),
        "latin1": lambda i: json.dumps(
            good_appeal(i, text="Café près de l'école", address="Rue de l'École", caller={}),
            ensure_ascii=False,
        ).encode("latin-1"),
        "overlong": lambda i: _with_bytes(i, b"\xc0\xaf"),
        "cesu": lambda i: _with_bytes(i, b"\xed\xa0\x80"),
        "array_of_appeal": lambda i: _dumps([good_appeal(i)]),
        "envelope": lambda i: _dumps({"appeal": good_appeal(i)}),
        "text_over_limit": lambda i: _dumps(good_appeal(i, text="路" * 20_001)),
        "text_1mb": lambda i: _dumps(good_appeal(i, text="路" * 333_000)),
        "just_over_limit": lambda i: _of_size(i, MAX_INTAKE_BYTES + 1),
        "days_ahead": lambda i: _dumps(good_appeal(i, received_at=later)),
        "text_at_limit": lambda i: _dumps(good_appeal(i, text="路" * 20_000)),
        "ascii_escaped": lambda i: json.dumps(good_appeal(i)).encode(),
        "padded": lambda i: b"\n\n  " + _dumps(good_appeal(i)) + b"  \n",
        "reordered": lambda i: _dumps(reordered),
        "duplicate": lambda i: _dumps(good_appeal(f"{run}-dup")),
    }


def _value(entry: dict[str, Any], ident: str, generators: dict[str, Callable[[str], bytes]]) -> bytes | None:
    if entry.get("tombstone"):
        return None
    if "generate" in entry:
        return generators[entry["generate"]](ident)
    if "raw" in entry:
        return str(entry["raw"]).replace("{id}", ident).encode()
    if "json" in entry:
        return _dumps(entry["json"])
    record = good_appeal("{id}", **entry.get("appeal", {}))
    for field in entry.get("drop", []):
        del record[field]
    return _dumps(record).replace(b"{id}", ident.encode())


def _parsed(value: bytes | None) -> dict[str, Any] | None:
    try:
        data = json.loads(value or b"")
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _key(entry: dict[str, Any], ident: str, data: dict[str, Any] | None) -> bytes | None:
    if "key_b64" in entry:
        return base64.b64decode(entry["key_b64"])
    if "key" in entry:
        return None if entry["key"] is None else str(entry["key"]).replace("{id}", ident).encode()
    if data and isinstance(data.get("channel"), str) and isinstance(data.get("source_id"), str):
        return f"{data['channel']}:{data['source_id']}".encode()
    return f"bad:{ident}".encode()


def corpus_entries() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def bad_inputs(run: str, now: datetime) -> list[BadInput]:
    """Every corpus entry built for one run (ids `<run>-<index>`), in file order."""
    generators = _generators(run, now)
    built = []
    for index, entry in enumerate(corpus_entries()):
        ident = f"{run}-{index:03d}"
        value = _value(entry, ident, generators)
        data = _parsed(value)
        source_id = data.get("source_id") if data else None
        key = _key(entry, ident, data)
        sid = source_id if isinstance(source_id, str) else None
        built.append(BadInput(entry["kind"], entry["expect"], key, value, sid))
    return built
