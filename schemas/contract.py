"""The published wire contract: one JSON Schema per payload and one AsyncAPI 3.0 document for all topics.

Everything here is derived from the pydantic models, so the published files cannot drift from
the code: `shaobao contract write` regenerates them and a unit test fails when they are stale.
Pure: the unit codes come in as data (the CLI reads the jurisdiction), text comes out.

A new payload is one line in `PAYLOADS`. Its JSON Schema mode follows from who writes it:
- written by a counterpart (a channel adapter, a unit's system): mode "validation", i.e. what
  Shaobao accepts; fields with defaults may be omitted.
- written only by Shaobao: mode "serialization", i.e. what Shaobao emits; we always dump every
  field (`model_dump_json()` with no exclusions), so every field is marked required and a
  Java/Go/C# consumer can generate non-optional members for them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue
from pydantic_core import core_schema

from schemas.actions import UnitAction
from schemas.alerts import Alert
from schemas.appeal import CHANNELS as APPEAL_CHANNELS
from schemas.appeal import Appeal
from schemas.commands import TicketCommand
from schemas.dead_letters import DeadLetter
from schemas.events import TicketEvent
from schemas.orders import WorkOrder
from schemas.reference import ReferencePublished
from schemas.rejections import AppealRejected

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_PREFIX = "urn:shaobao:schema:"
ASYNCAPI_FILE = "asyncapi.yaml"
JSON_DIR = "json"
# Bump when a channel, a key or a payload's schema_version changes; payload versions live in the payloads.
CONTRACT_VERSION = "1.0.0"
KAFKA_BINDING_VERSION = "0.5.0"


@dataclass(frozen=True)
class Payload:
    """One payload on the wire: a model or a tagged union, named as integrators will see it."""

    name: str
    type: Any  # whatever pydantic's TypeAdapter accepts: a model class or an Annotated union
    summary: str  # for people: the glossary term, English first, Chinese in parentheses

    @property
    def file(self) -> str:
        """`TicketEvent` → `json/ticket-event.schema.json`."""
        kebab = "".join(f"-{c.lower()}" if c.isupper() else c for c in self.name).lstrip("-")
        return f"{JSON_DIR}/{kebab}.schema.json"

    @property
    def schema_id(self) -> str:
        return ID_PREFIX + self.file.removeprefix(f"{JSON_DIR}/").removesuffix(".schema.json")


PAYLOADS: tuple[Payload, ...] = (
    Payload("Appeal", Appeal, "An appeal (诉求): what a citizen asks, as received from one channel."),
    Payload("AppealRejected", AppealRejected, "An intake record that is not a valid appeal, kept with why."),
    Payload("TicketCommand", TicketCommand, "A command (指令) to the ticket (工单) agent, imperative."),
    Payload(
        "DeadLetter", DeadLetter, "A message an agent could not process, kept with its bytes, where and why."
    ),
    Payload("TicketEvent", TicketEvent, "What happened to a ticket (工单), past tense; the source of truth."),
    Payload("WorkOrder", WorkOrder, "A work order (派单) to one unit (承办单位): what it needs to act."),
    Payload(
        "Alert", Alert, "An alert (告警) for the control room and ops: at risk (预警), overdue (超期), …"
    ),
    Payload(
        "UnitAction",
        UnitAction,
        "A unit's (承办单位) action on its order: sign (签收), return (退单), extension (延期), progress, "
        "its part as a co unit (协办反馈), complete (办结).",
    ),
    Payload(
        "ReferencePublished",
        ReferencePublished,
        "A jurisdiction and its lexicon (辖区配置) published to the running workers: hot reload.",
    ),
)


@dataclass(frozen=True)
class KafkaKey:
    """What the Kafka record key is on a channel (UTF-8 text)."""

    description: str
    example: str
    pattern: str | None = None


@dataclass(frozen=True)
class Channel:
    """One topic (or family of per-unit topics), who writes and reads it, and Shaobao's operations."""

    id: str
    address: str
    payload: str  # a `Payload.name`; a channel whose payload is not registered yet is listed empty
    key: KafkaKey
    description: str  # ends with who writes and who reads it
    send: str | None = None  # the operation id when Shaobao writes the topic
    receive: str | None = None  # the operation id when Shaobao reads it
    counterpart_writes: bool = False  # then its payload's schema says what Shaobao accepts

    @property
    def per_unit(self) -> bool:
        return "{unit}" in self.address


TICKET_KEY = KafkaKey(
    "`ticket_id`: every record about one ticket is on one partition, in order.", "20260302-03-000123"
)
CHANNELS: tuple[Channel, ...] = (
    Channel(
        "appealsIntake", "appeals.intake", "Appeal",
        KafkaKey(
            "`channel:source_id`, the appeal's idempotency key. Produce with murmur2 partitioning (the Java "
            "client's default; librdkafka clients: `partitioner=murmur2_random`): a record on another "
            "partition is re-sent by Shaobao to its home partition, which costs a hop but loses nothing.",
            "phone:A-20260302-0001",
            "^(" + "|".join(APPEAL_CHANNELS) + "):.+$",
        ),
        "Appeals (诉求) as received. Sending the same `channel:source_id` again is safe: it makes no second "
        "ticket, it is recorded as a duplicate (重复来电). A record that is not a valid appeal goes to "
        "`appeals.rejected` with the reason: nothing is dropped silently.\n\nWritten by channel "
        "adapters (phone operators, web, WeChat, app, SMS, mailbox, 110, 12369) and HTTP intake; read "
        "by the intake agent.",
        receive="takeInAppeals", counterpart_writes=True,
    ),
    Channel(
        "appealsRejected", "appeals.rejected", "AppealRejected",
        KafkaKey("The original record's key as received (normally `channel:source_id`).", "phone:broken-1"),
        "Intake records that are not valid appeals, with the original bytes, the reason and the source "
        "position. `rejection_id` (`<topic>:<partition>:<offset>`) is the idempotency key.\n\nWritten by "
        "the intake agent, and by `shaobao import` for a CSV row or an e-mail it cannot read (id "
        "`import:<csv|mailbox>:<file>:…`, source topic `import:<kind>:<path>`, offset the CSV line); read "
        "by ops, who can fix a record and send it to `appeals.intake` again (`shaobao rejected replay`).",
        send="rejectAppeal",
    ),
    Channel(
        "ticketsCommands", "tickets.commands", "TicketCommand", TICKET_KEY,
        "Commands to the ticket agent, the only writer of ticket state. `command_id` is deterministic: a "
        "command processed again after a crash changes nothing. Internal to Shaobao.\n\nWritten by the "
        "intake, unit-action, timer and control-room agents; read by the ticket agent.",
        send="issueTicketCommand", receive="handleTicketCommands",
    ),
    Channel(
        "ticketsEvents", "tickets.events", "TicketEvent", TICKET_KEY,
        "Every change of every ticket (工单), kept forever: the source of truth. `event_id` "
        "(`<ticket_id>:<version>`) is the idempotency key; `version` rises by one per ticket.\n\nWritten "
        "by the ticket agent only; read by the orders, timer and sink agents, the control room, metrics.",
        send="publishTicketEvent", receive="followTicketEvents",
    ),
    Channel(
        "unitOrders", "units.{unit}.orders", "WorkOrder", TICKET_KEY,
        "Work orders for one unit (承办单位): dispatch (派单), redispatch (改派), rework (发回重办). "
        "The caller is masked; reports (举报) carry no caller at all. `order_id` (`<event_id>:<unit>`) "
        "is the idempotency key: after a Shaobao crash the same order can arrive again with the same "
        "`order_id`, and the unit's system must ignore it.\n\nWritten by the orders agent; read by "
        "that unit's system only.",
        send="sendWorkOrder",
    ),
    Channel(
        "unitActions", "units.{unit}.actions", "UnitAction", TICKET_KEY,
        "A unit's actions on its orders: sign (签收), return (退单), extension (延期), progress, complete "
        "(办结), report in (报到). The unit's identity is the topic it writes to, never the payload: Kafka "
        "ACLs give each unit its own two topics and nothing else.\n\nWritten by that unit's system only; "
        "read by the unit-action agent.",
        receive="takeInUnitActions", counterpart_writes=True,
    ),
    Channel(
        "alerts", "alerts", "Alert",
        KafkaKey("`ticket_id` for an alert about a ticket, else the unit code; none for neither.", "zjj"),
        "At risk (预警), overdue (超期), supervise (督办), rejected commands and operational alerts. "
        "`alert_id` derives from the cause: a replay raises nothing new.\n\nWritten by the timer and "
        "ticket agents and the ops monitor; read by the control room and ops.",
        send="raiseAlert",
    ),
    Channel(
        "deadLetters", "dead.letters", "DeadLetter",
        KafkaKey("`dead_letter_id`: `<source topic>:<partition>:<offset>:<agent>`.",
                 "appeals.intake:3:120:take_in_appeals"),
        "Messages an agent could not process (undecodable, against the contract, not following their "
        "ticket's log, refused by the store, or tripping a bug), kept forever with the first 256 KiB of "
        "the original bytes, its length and SHA-256, the source position, the agent and the error; the "
        "agent goes on with the next message. Kafka or PostgreSQL being unavailable is never a dead "
        "letter: that is retried.\n\nWritten by every agent's error boundary; read by ops "
        "(`shaobao dead list`, `shaobao dead replay`) and the control room's ops panel.",
        send="setAsideDeadLetter",
    ),
    Channel(
        "configReference", "config.reference", "ReferencePublished",
        KafkaKey("The jurisdiction code: compaction keeps the latest published per jurisdiction.",
                 "sample-county"),
        "Jurisdictions (routes, places, lexicon) put in force without a restart. Every worker reads the "
        "whole topic itself, takes up each valid one and records its `version` on each triage decision; "
        "an invalid one is refused with a `reference_rejected` alert and the one in force stays.\n\n"
        "Written by `shaobao reference publish`; read by every worker.",
        send="publishReference", receive="followReference",
    ),
)  # fmt: skip


class _EmittedJsonSchema(GenerateJsonSchema):
    """Marks every field required in serialization mode: Shaobao always writes every field."""

    def field_is_required(
        self,
        field: core_schema.ModelField | core_schema.DataclassField | core_schema.TypedDictField,
        total: bool,
    ) -> bool:
        if self.mode == "serialization":
            return True
        return super().field_is_required(field, total)


def payload_mode(payload: Payload, channels: Iterable[Channel] = CHANNELS) -> JsonSchemaMode:
    """Validation (what we accept) when a counterpart writes the payload, else serialization."""
    written_by_others = any(c.payload == payload.name and c.counterpart_writes for c in channels)
    return "validation" if written_by_others else "serialization"


def _schema_versions(schema: Mapping[str, Any]) -> dict[str, int]:
    """`schema_version` of the payload, or of each variant of a tagged union, by title."""
    defs: Mapping[str, Any] = schema.get("$defs", {})
    roots = (
        [defs[ref["$ref"].rsplit("/", 1)[-1]] for ref in schema["oneOf"]] if "oneOf" in schema else [schema]
    )
    return {str(root["title"]): int(root["properties"]["schema_version"]["const"]) for root in roots}


def json_schema(payload: Payload) -> dict[str, Any]:
    """The draft 2020-12 JSON Schema of one payload, self-contained, with `$id`, title and version."""
    schema = TypeAdapter(payload.type).json_schema(
        mode=payload_mode(payload), schema_generator=_EmittedJsonSchema
    )
    versions = _schema_versions(schema)
    uniform = set(versions.values())
    own_description = schema.get("description")
    return {
        **schema,
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": payload.schema_id,
        "title": payload.name,  # code generators name the type after the title: keep it an identifier
        "description": payload.summary + (f"\n\n{own_description}" if own_description else ""),
        # One number when every variant agrees; per variant otherwise, so a bump stays visible.
        "x-schema-version": uniform.pop() if len(uniform) == 1 else versions,
    }


def _dumps_json(value: object) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class Units:
    """The jurisdiction's unit codes (departments and towns) and their names."""

    jurisdiction: str
    names: tuple[tuple[str, str], ...]


def published_files(units: Units, payloads: Iterable[Payload] = PAYLOADS) -> dict[str, str]:
    """Every published file, path relative to `schemas/` → exact text."""
    payloads = tuple(payloads)
    files = {p.file: _dumps_json(json_schema(p)) for p in payloads}
    files[ASYNCAPI_FILE] = dump_yaml(asyncapi_document(units, payloads))
    return files


# --- AsyncAPI -------------------------------------------------------------------------------------

# AsyncAPI 3.0 schemas are JSON Schema draft-07 plus extensions: a 2020-12 keyword there would be
# silently ignored, i.e. the document would promise less than the model enforces. Translate what
# has a draft-07 form (`prefixItems`, from fixed-length tuples) and fail on the rest.
_NOT_IN_DRAFT_07 = frozenset(
    {"$defs", "unevaluatedProperties", "unevaluatedItems", "dependentRequired", "dependentSchemas",
     "$anchor", "$dynamicRef", "$dynamicAnchor"}
)  # fmt: skip
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "definitions"})  # name → schema
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf"})
_SUBSCHEMAS = frozenset(
    {"items", "additionalItems", "additionalProperties", "not", "if", "then", "else", "contains",
     "propertyNames"}
)  # fmt: skip


def as_asyncapi_schema(schema: Any) -> Any:
    """A pydantic schema as an AsyncAPI (draft-07 based) Schema Object; data (`const`, `default`) is kept."""
    if not isinstance(schema, dict):
        return schema  # a boolean schema
    found = _NOT_IN_DRAFT_07 & schema.keys()
    if found:
        raise ValueError(f"JSON Schema keywords {sorted(found)} cannot be expressed in AsyncAPI 3.0 schemas")
    out: dict[str, Any] = {}
    if "prefixItems" in schema:  # draft-07 spells a tuple as an `items` list, the rest as `additionalItems`
        rest = schema.get("items", False)
        schema = {**schema, "items": schema["prefixItems"], "additionalItems": rest}
        del schema["prefixItems"]
    for key, value in schema.items():
        if key in _SCHEMA_MAPS:
            out[key] = {name: as_asyncapi_schema(sub) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS or (key == "items" and isinstance(value, list)):
            out[key] = [as_asyncapi_schema(sub) for sub in value]
        elif key in _SUBSCHEMAS:
            out[key] = as_asyncapi_schema(value)
        elif key == "discriminator" and isinstance(value, dict):
            # OpenAPI's {propertyName, mapping}; AsyncAPI's discriminator is the property name alone.
            out[key] = value["propertyName"]
        else:
            out[key] = value
    if "$ref" in out and len(out) > 1:
        # Draft-07 ignores a $ref's siblings; allOf keeps them meaningful.
        ref = out.pop("$ref")
        out = {"allOf": [{"$ref": ref}], **out}
    return out


def _component_schemas(payloads: tuple[Payload, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(payload name → schema or $ref, every definition) with refs into `#/components/schemas`.

    One generation pass for all payloads, so a model shared by several (Appeal, TriageDecision)
    is defined once; pydantic suffixes `-Input` / `-Output` where the two modes differ.
    """
    roots, defs = TypeAdapter.json_schemas(
        [(p.name, payload_mode(p), TypeAdapter(p.type)) for p in payloads],
        ref_template="#/components/schemas/{model}",
        schema_generator=_EmittedJsonSchema,
    )
    components = dict(defs.get("$defs", {}))
    payload_refs: dict[str, Any] = {}
    for payload in payloads:
        root: JsonSchemaValue = roots[(payload.name, payload_mode(payload))]
        if "$ref" not in root:  # a tagged union has no definition of its own: give it one
            if payload.name in components:
                raise ValueError(f"payload name {payload.name} collides with a model's definition")
            components[payload.name] = {"title": payload.name, **root}
            root = {"$ref": f"#/components/schemas/{payload.name}"}
        payload_refs[payload.name] = root
    return payload_refs, {name: as_asyncapi_schema(s) for name, s in sorted(components.items())}


GLOSSARY: tuple[tuple[str, str, str], ...] = (
    ("appeal", "诉求", "what a citizen asks, as received"),
    ("ticket", "工单", "the case the system tracks for one appeal (or a merged group)"),
    ("unit", "承办单位", "a department, utility, or town that handles tickets"),
    ("town", "属地", "the sub-district (街道) or town (镇/乡) where the problem is"),
    ("lead / co", "牵头 / 协办", "the unit responsible / units that help"),
    ("dispatch / redispatch", "派单 / 改派", "send a work order to units / send it elsewhere"),
    ("sign", "签收", "a unit accepts a work order"),
    ("return", "退单", "a unit says the order is not theirs, with a reason"),
    ("extension", "延期", "a unit asks for more time; the hotline grants or denies"),
    ("complete", "办结", "a unit reports the result to the citizen's appeal"),
    ("callback", "回访", "the hotline asks the citizen whether they are satisfied"),
    ("rework", "发回重办", "a dissatisfied result goes back to the unit with a new limit"),
    ("close", "销号", "the ticket ends"),
    ("instant", "即办", "answered by the hotline on line, no dispatch"),
    ("transfer", "转办 110/119/120", "handed to an emergency line"),
    ("whistle / report_in", "吹哨 / 报到", "a town calls departments in / a department acknowledges"),
    ("at_risk / overdue", "预警 / 超期", "past `warn_at` of a limit / past the limit"),
    ("supervise", "督办", "escalation to the supervision office"),
    ("cluster", "多人反映", "several appeals about the same problem"),
    ("repeat", "重复来电", "the same caller about the same matter again"),
)

DESCRIPTION = """\
The wire contract of Shaobao (哨报): real-time dispatch for a 12345 government service hotline, on Kafka.

**Whose view.** This document describes the Shaobao application: an operation with action `send` \
means Shaobao writes the topic, `receive` means Shaobao reads it. A unit's (承办单位: a department's, \
utility's or town's) system is the counterpart: it reads its work orders from `units.{unit}.orders` \
and writes its actions to `units.{unit}.actions`. Channel adapters are counterparts that write \
appeals to `appeals.intake`.

**Topic names.** Every address is prefixed with the deployment's topic prefix \
(`SHAOBAO_TOPIC_PREFIX`, empty by default): with prefix `city-a.` the orders of unit `zjj` are on \
`city-a.units.zjj.orders`, and Shaobao's consumer group is `city-a.shaobao`.

**Encoding.** Keys and values are UTF-8; every value is one JSON object valid against its payload \
schema, and carries `schema_version`. Timestamps are RFC 3339 with their UTC offset (`Z`, `+08:00`). \
Objects are closed (`additionalProperties: false`): Shaobao rejects fields it does not know and \
sends none beyond its schema.

**Effectively once.** Delivery is at least once (no Kafka transactions): after a crash a record can \
be delivered again. Every record carries an id derived from its cause, and every reader must be \
idempotent on it:
- `order_id` (`<event_id>:<unit>`) on work orders: a unit's system must ignore an `order_id` it has \
already seen;
- `event_id` (`<ticket_id>:<version>`) on ticket events;
- `channel:source_id` (the intake key) on appeals: sending an appeal twice makes one ticket;
- `command_id`, `rejection_id` and `alert_id` likewise.

Every record about a ticket is keyed by `ticket_id`, so it is on one partition, in order.

**Schemas.** Each payload is also published alone as a JSON Schema (draft 2020-12) in \
`schemas/json/` (`$id` `urn:shaobao:schema:<name>`). A schema named `…-Input` is what Shaobao \
accepts (a field with a default may be left out); `…-Output` is what Shaobao sends (every field is \
present, `null` when empty).
"""


def _glossary() -> str:
    rows = "".join(f"| `{term}` | {chinese} | {meaning} |\n" for term, chinese, meaning in GLOSSARY)
    return "**Glossary.**\n\n| identifier | 中文 | meaning |\n|---|---|---|\n" + rows


def _key_schema(key: KafkaKey) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "description": key.description, "examples": [key.example]}
    if key.pattern:
        schema["pattern"] = key.pattern
    return schema


def _message(payload: Payload, channel: Channel, payload_ref: Any) -> dict[str, Any]:
    return {
        "name": payload.name,
        "title": payload.name,
        "summary": payload.summary,
        "description": f"JSON Schema: `schemas/{payload.file}` (`$id` `{payload.schema_id}`).",
        "contentType": "application/json",
        "payload": payload_ref,
        "bindings": {"kafka": {"key": _key_schema(channel.key), "bindingVersion": KAFKA_BINDING_VERSION}},
    }


def _channel(channel: Channel, has_message: bool) -> dict[str, Any]:
    pending = "" if has_message else f"\n\nThe `{channel.payload}` payload is not published yet."
    out: dict[str, Any] = {
        "address": channel.address,
        "title": channel.address,
        "description": channel.description + pending,
        "messages": (
            {channel.payload: {"$ref": f"#/components/messages/{channel.payload}"}} if has_message else {}
        ),
    }
    if channel.per_unit:
        out["parameters"] = {"unit": {"$ref": "#/components/parameters/unit"}}
    return out


def _operations(channel: Channel) -> dict[str, Any]:
    ref = {"$ref": f"#/channels/{channel.id}"}
    messages = [{"$ref": f"#/channels/{channel.id}/messages/{channel.payload}"}]
    ops: dict[str, Any] = {}
    if channel.send:
        ops[channel.send] = {
            "action": "send",
            "channel": ref,
            "summary": f"Shaobao writes `{channel.address}`.",
            "messages": messages,
        }
    if channel.receive:
        group = {"type": "string", "description": "`<topic prefix>shaobao`", "examples": ["shaobao"]}
        ops[channel.receive] = {
            "action": "receive",
            "channel": ref,
            "summary": f"Shaobao reads `{channel.address}`.",
            "messages": messages,
            "bindings": {"kafka": {"groupId": group, "bindingVersion": KAFKA_BINDING_VERSION}},
        }
    return ops


def _unit_parameter(units: Units) -> dict[str, Any]:
    listing = "".join(f"- `{code}` {name}\n" for code, name in units.names)
    return {
        "description": (
            f"The unit (承办单位) code: a department, a utility or a town (属地) of the jurisdiction "
            f"{units.jurisdiction}. A deployment publishes its own jurisdiction's codes.\n\n{listing}"
        ),
        "enum": [code for code, _ in units.names],
        "examples": [units.names[0][0]],
    }


def asyncapi_document(units: Units, payloads: Iterable[Payload] = PAYLOADS) -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document for every topic, self-contained (schemas inlined)."""
    payloads = tuple(payloads)
    by_name = {p.name: p for p in payloads}
    unused = set(by_name) - {c.payload for c in CHANNELS}
    if unused:
        raise ValueError(f"payloads {sorted(unused)} are on no channel: add them to CHANNELS")
    payload_refs, schemas = _component_schemas(payloads)
    channels = {c.id: _channel(c, c.payload in by_name) for c in CHANNELS}
    operations: dict[str, Any] = {}
    for channel in CHANNELS:
        if channel.payload in by_name:
            operations.update(_operations(channel))
    messages = {
        c.payload: _message(by_name[c.payload], c, payload_refs[c.payload])
        for c in CHANNELS
        if c.payload in by_name
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Shaobao (哨报) wire contract",
            "version": CONTRACT_VERSION,
            "description": DESCRIPTION + "\n" + _glossary(),
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {
                "host": "{bootstrap}",
                "protocol": "kafka",
                "description": "The deployment's Kafka cluster.",
                "variables": {
                    "bootstrap": {
                        "default": "127.0.0.1:9092",
                        "description": "a bootstrap server; the default is the local broker of `make run`",
                    }
                },
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": schemas,
            "messages": messages,
            "parameters": {"unit": _unit_parameter(units)},
        },
    }


class _ContractDumper(yaml.SafeDumper):
    """Block scalars for multi-line text and no anchors, so the YAML reads (and diffs) like prose."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ContractDumper.add_representer(str, _represent_str)


def dump_yaml(document: Mapping[str, Any]) -> str:
    """Deterministic YAML: document order as built, no line folding, UTF-8 text kept readable."""
    return yaml.dump(document, Dumper=_ContractDumper, sort_keys=False, allow_unicode=True, width=10_000)
