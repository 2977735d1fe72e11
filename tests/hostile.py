"""The hostile-input corpus for every surface but Kafka intake (`tests/data/bad_inputs/surfaces.jsonl`).

Each line is one kind: its `surface`, its `kind`, a `note`, how to build it (`input`) and
what must become of it (`expect`):

- `unit_actions`, `commands`, `events` (written with aiokafka like a broken unit system,
  client or writer): `dead_letter` (the agents that set it aside, each with its reason),
  `event` (the ticket events it makes, and the alert kind when one is due), `refused` (a
  command for a ticket that does not exist: an alert, no event) or `nothing` (a copy of
  what the log holds). Built from `action`/`command`/`event` (fields laid over a good one,
  `set`, `drop`), `json` (any JSON), `raw` (text as written), `generate` (built here) or
  `tombstone` (no value). `times` sends it more than once; `units: all` sends it to every
  unit's actions topic; `unit` names the unit whose topic it goes to (default zjj); `key`
  the record's key (default the ticket).
- `http_*`: `http_4xx` with the status and the field the answer must name; nothing may reach
  a topic. Built from `path`, `method`, `auth`, `headers`, `content_type`, and a body
  (`appeal`, `action`, `json`, `raw`, `form` or `generate`).
- `import_mailbox` (one `.eml` file each) and `import_csv` (one row each of one file):
  `ticket`, `rejection` (with the importer's reason) or `duplicate` (one ticket, sent twice).

In any string, `{id}` is the kind's own id for this run, `{ticket}` the ticket the surface
acts on, `{missing}` a ticket id that does not exist, `{now}` the time, `{service}` an Open311
service code; `{"$repeat": s, "n": n}` is `s` n times and `{"$units": n}` n unit codes.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

CORPUS = Path(__file__).resolve().parent / "data" / "bad_inputs" / "surfaces.jsonl"
KAFKA_SURFACES = ("unit_actions", "commands", "events")
HTTP_SURFACES = ("http_intake", "http_units", "http_control", "http_room", "http_open311")
IMPORT_SURFACES = ("import_mailbox", "import_csv")
SHORT = {
    "unit_actions": "ua",
    "commands": "cm",
    "events": "ev",
    "http_intake": "hi",
    "http_units": "hu",
    "http_control": "hc",
    "http_room": "hr",
    "http_open311": "ho",
    "import_mailbox": "im",
    "import_csv": "ic",
}
GOOD_TEXT = "白马桥街道凤凰城小区门口下水道堵塞，污水外溢到路面，臭味很大，请相关部门疏通。"
ACTION_FIELDS: dict[str, dict[str, Any]] = {
    "sign": {},
    "return": {"reason_code": "not_our_duty", "reason": "不属本单位职责"},
    "request_extension": {"extra": "3wd", "reason": "需协调施工队"},
    "note_progress": {"note": "已到现场查看"},
    "complete": {"reply": "已疏通下水道"},
    "whistle": {"units": ["cgj"], "reason": "需执法力量到场"},
}
CONTROL = {"operator": "测试坐席", "role": "control_room"}


@dataclass(frozen=True)
class Kind:
    surface: str
    kind: str
    note: str
    input: dict[str, Any]
    expect: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.surface}/{self.kind}"


def surface_kinds() -> list[Kind]:
    kinds = [Kind(**json.loads(line)) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line]
    names = [k.name for k in kinds]
    assert len(names) == len(set(names)), "a kind is named twice"
    return kinds


@dataclass(frozen=True)
class Targets:
    """What the placeholders stand for in one run on one pipeline."""

    run: str
    now: datetime
    tickets: dict[str, str]  # surface → the ticket it acts on
    received: dict[str, dict[str, Any]]  # ticket id → its ticket_received event, as on the log
    first_event: bytes  # the events surface's ticket's ticket_received, byte for byte
    service: str
    units: tuple[str, ...]

    def ident(self, kind: Kind) -> str:
        # Ends with "." so that no kind's id is the beginning of another's.
        return f"{self.run}-{SHORT[kind.surface]}-{kind.kind}."

    def missing(self, kind: Kind) -> str:
        return f"29991231-{self.run}-{kind.kind}"[:100]

    def ticket(self, kind: Kind) -> str:
        return self.tickets.get(kind.surface, self.tickets["unit_actions"])

    def fill(self, value: Any, kind: Kind) -> Any:
        """Placeholders and generators replaced, all the way down."""
        if isinstance(value, str):
            return (
                value.replace("{id}", self.ident(kind))
                .replace("{ticket}", self.ticket(kind))
                .replace("{missing}", self.missing(kind))
                .replace("{now}", self.now.isoformat())
                .replace("{service}", self.service)
            )
        if isinstance(value, list):
            return [self.fill(item, kind) for item in value]
        if isinstance(value, dict):
            if "$repeat" in value:
                return str(value["$repeat"]) * int(value["n"])
            if "$units" in value:
                return list(self.units[: int(value["$units"])])
            return {self.fill(name, kind): self.fill(item, kind) for name, item in value.items()}
        return value


def _laid_over(base: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    merged = {**base, **spec.get("set", {})}
    return {name: value for name, value in merged.items() if name not in spec.get("drop", ())}


def _utf8(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


# --- Kafka: units' actions, tickets.commands, tickets.events ---------------------------------


def action_payload(action: str, targets: Targets, kind: Kind) -> dict[str, Any]:
    header = {"type": action, "action_id": "{id}", "ticket_id": "{ticket}", "acted_at": "{now}"}
    return dict(targets.fill({**header, **ACTION_FIELDS[action]}, kind))


def command_payload(command: str, targets: Targets, kind: Kind) -> dict[str, Any]:
    header = {"type": command, "command_id": "{id}", "ticket_id": "{ticket}", "issued_at": "{now}"}
    received = targets.received[targets.ticket(kind)]
    fields: dict[str, Any] = {
        "close_ticket": {**CONTROL, "reason": "{id}"},
        "judge_unreasonable": {**CONTROL, "reason": "{id}"},
        "sign_order": {"unit": "zjj", "action_id": "{id}"},
        "record_duplicate": {"appeal": received["appeal"]},
        "receive_appeal": {"appeal": received["appeal"], "triage": received["triage"]},
    }[command]
    return dict(targets.fill({**header, **fields}, kind))


def event_payload(event: str, targets: Targets, kind: Kind) -> dict[str, Any]:
    assert event == "command_rejected"
    header = {
        "type": event,
        "event_id": "{ticket}:3",
        "ticket_id": "{ticket}",
        "version": 3,
        "occurred_at": "{now}",
        "command_id": "{id}",
    }
    fields = {"command_type": "sign_order", "reason": "{id}", "violation": "state", "actor": None}
    return dict(targets.fill({**header, **fields}, kind))


def _marked(payload: dict[str, Any], field: str, inserted: bytes) -> bytes:
    mark = "\u2603MARK\u2603"
    return _utf8({**payload, field: payload[field] + mark}).replace(mark.encode(), inserted)


GENERATED: dict[str, Callable[[Targets, Kind], bytes]] = {
    "binary": lambda t, k: bytes(range(256)) * 4,
    "gbk_action": lambda t, k: json.dumps(action_payload("note_progress", t, k), ensure_ascii=False).encode(
        "gbk"
    ),
    "bom_action": lambda t, k: b"\xef\xbb\xbf" + _utf8(action_payload("sign", t, k)),
    "deep_nesting": lambda t, k: b"[" * 100_000 + b"]" * 100_000,
    "deep_nesting_60k": lambda t, k: b"[" * 30_000 + b"]" * 30_000,
    "raw_nul_action": lambda t, k: _marked(action_payload("note_progress", t, k), "note", b"\x00"),
    "copy_of_v1": lambda t, k: t.first_event,
    "gbk_appeal": lambda t, k: json.dumps(web_appeal(t, k), ensure_ascii=False).encode("gbk"),
    "appeal_in_array": lambda t, k: _utf8([web_appeal(t, k)]),
    "appeal_huge_integer": lambda t, k: _utf8(web_appeal(t, k))[:-1] + b', "n": 1' + b"0" * 5000 + b"}",
    "gbk_form": lambda t, k: f"service_code={t.service}&description=".encode() + "路灯坏了".encode("gbk"),
}


def kafka_value(kind: Kind, targets: Targets) -> bytes | None:
    spec = kind.input
    if spec.get("tombstone"):
        return None
    if "generate" in spec:
        return GENERATED[spec["generate"]](targets, kind)
    if "raw" in spec:
        return str(targets.fill(spec["raw"], kind)).encode()
    if "json" in spec:
        return _utf8(targets.fill(spec["json"], kind))
    builders = {"action": action_payload, "command": command_payload, "event": event_payload}
    [(form, name)] = [(form, spec[form]) for form in builders if form in spec]
    base = builders[form](name, targets, kind)
    return _utf8(targets.fill(_laid_over(base, spec), kind))


@dataclass(frozen=True)
class KafkaRecord:
    kind: Kind
    unit: str | None  # the unit whose actions topic it goes to; None: commands or events
    key: bytes | None
    value: bytes | None


def kafka_records(kind: Kind, targets: Targets) -> list[KafkaRecord]:
    spec = kind.input
    key_text = targets.fill(spec.get("key", "{ticket}"), kind)
    key = None if key_text is None else str(key_text).encode()
    value = kafka_value(kind, targets)
    if kind.surface != "unit_actions":
        units: tuple[str | None, ...] = (None,)
    elif spec.get("units") == "all":
        units = targets.units
    else:
        units = (spec.get("unit", "zjj"),)
    return [KafkaRecord(kind, unit, key, value) for unit in units for _ in range(int(spec.get("times", 1)))]


# --- HTTP ----------------------------------------------------------------------------------


def web_appeal(targets: Targets, kind: Kind) -> dict[str, Any]:
    base = {
        "channel": "web",
        "source_id": "{id}",
        "text": "{id} " + GOOD_TEXT,
        "address": "凤凰城小区",
        "caller": {"name": "向先生", "phone": "18939595216"},
    }
    return dict(targets.fill(base, kind))


@dataclass(frozen=True)
class HttpRequest:
    kind: Kind
    method: str
    path: str
    auth: str  # none | unit | control_room | bad | session | forged_cookie
    headers: dict[str, str]
    content: bytes | None


def http_request(kind: Kind, targets: Targets) -> HttpRequest:
    spec = kind.input
    content_type = "application/json"
    content: bytes | None
    if "generate" in spec:
        content = GENERATED[spec["generate"]](targets, kind)
        if spec["generate"] == "gbk_form":
            content_type = "application/x-www-form-urlencoded"
    elif "raw" in spec:
        content = str(targets.fill(spec["raw"], kind)).encode()
    elif "form" in spec:
        content = urlencode(targets.fill(spec["form"], kind), quote_via=quote).encode()
        content_type = "application/x-www-form-urlencoded"
    elif "json" in spec:
        content = json.dumps(targets.fill(spec["json"], kind)).encode()  # ASCII: \ud800 stays escaped
    elif "appeal" in spec:
        body = {**web_appeal(targets, kind), **targets.fill(spec["appeal"], kind)}
        content = json.dumps(_laid_over(body, {"drop": spec.get("drop", ())})).encode()
    elif "action" in spec:
        content = json.dumps(
            _laid_over(action_payload(spec["action"], targets, kind), targets.fill(spec, kind))
        ).encode()
    else:
        content = None
    headers = dict(targets.fill(spec.get("headers", {}), kind))
    if content is not None:
        headers["Content-Type"] = spec.get("content_type", content_type)
    return HttpRequest(
        kind=kind,
        method=spec.get("method", "POST"),
        path=str(targets.fill(spec["path"], kind)),
        # Intake and Open311 POSTs carry the city portal's intake key unless the kind says otherwise.
        auth=spec.get("auth", "intake" if kind.surface in ("http_intake", "http_open311") else "none"),
        headers=headers,
        content=content,
    )


# --- imports -------------------------------------------------------------------------------


def mail_files(kind: Kind, targets: Targets) -> list[tuple[str, bytes]]:
    """The `.eml` files of one kind: (file name, bytes)."""
    spec = kind.input
    name = targets.ident(kind)
    if "raw" in spec:
        data = str(targets.fill(spec["raw"], kind)).encode()
    elif "generate" in spec:
        data = GENERATED[spec["generate"]](targets, kind)
    else:
        newline = spec.get("newline", "\r\n")
        headers = newline.join(targets.fill(spec["headers"], kind))
        data = (headers + newline * 2 + targets.fill(spec["body"], kind)).encode()
        data += base64.b64decode(spec.get("body_suffix_b64", ""))
    copies = int(spec.get("copies", 1))
    if copies == 1:
        return [(f"{name}eml", data)]
    return [(f"{name}{n}.eml", data) for n in range(1, copies + 1)]


CSV_HEADER = "工单编号,来电时间,诉求内容,来电号码,来电人,地址,渠道"


def csv_file(kinds: list[Kind], targets: Targets) -> bytes:
    """One legacy export holding every row kind (a kind with `copies` twice), UTF-8, CRLF."""
    lines = [CSV_HEADER]
    for kind in kinds:
        row = str(targets.fill(kind.input["row"], kind))
        lines += [row] * int(kind.expect.get("copies", 1))
    return ("\r\n".join(lines) + "\r\n").encode()
