"""The OpenAPI 3.1 document of the HTTP API for units and the control room, generated from the
pydantic models (`schemas.http_api`, `schemas.actions`, `schemas.orders`), so it cannot drift
from what the API accepts and answers. Pure: a dict out; `shaobao contract` writes it.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode
from pydantic_core import core_schema

from schemas.actions import UnitAction
from schemas.http_api import (
    CONTROL_ENDPOINTS,
    CONTROL_PATH,
    IDEMPOTENCY_KEY_PATTERN,
    ORDERS_LIMIT_MAX,
    UNIT_ACTIONS_PATH,
    UNIT_KB_ENTRY_PATH,
    UNIT_KB_PATH,
    UNIT_KB_VERSIONS_PATH,
    UNIT_ORDERS_PATH,
    ActionAccepted,
    ApiError,
    CommandAccepted,
    ControlEndpoint,
    KbEntries,
    KbEntryVersions,
    KbEntryWritten,
    KbStoredEntry,
    OpenOrders,
)
from schemas.kb import KbEntry

OPENAPI_FILE = "openapi.json"
API_VERSION = "1.0.0"
_REF = "#/components/schemas/{model}"
DESCRIPTION = """\
HTTP API of Shaobao (哨报) for units (承办单位) without a Kafka client, and for the control room.

Authenticate with `Authorization: Bearer <token>`; tokens are issued with `shaobao tokens issue`
and stored only as their SHA-256. A unit's token makes it that unit: its actions go to its own
`units.<unit>.actions` topic, exactly as a Kafka client's would, and the same rules apply. The
API decides nothing itself: an accepted request (202) is on its topic, and the ticket agent
accepts it or rejects it (kept in the ticket's log, alerted; an action on another unit's ticket
is a security alert).

Retrying is safe. A unit's action is identified by its `action_id`; a control-room command by
the `Idempotency-Key` header, or, without one, by its body (the same body to the same ticket is
the same command: send a fresh key to repeat one on purpose, e.g. a second callback attempt).
"""


class _Emitted(GenerateJsonSchema):
    """What the API answers always has every field: mark them all required."""

    def field_is_required(
        self,
        field: core_schema.ModelField | core_schema.DataclassField | core_schema.TypedDictField,
        total: bool,
    ) -> bool:
        return self.mode == "serialization" or super().field_is_required(field, total)


def _schemas() -> tuple[dict[tuple[str, JsonSchemaMode], Any], dict[str, Any]]:
    inputs: list[tuple[str, JsonSchemaMode, TypeAdapter[Any]]] = [
        ("UnitAction", "validation", TypeAdapter(UnitAction)),
        ("KbEntry", "validation", TypeAdapter(KbEntry)),
        *((e.request.__name__, "validation", TypeAdapter(e.request)) for e in CONTROL_ENDPOINTS),
        *(
            (m.__name__, "serialization", TypeAdapter(m))
            for m in (OpenOrders, ActionAccepted, CommandAccepted, KbEntries, KbEntryWritten, KbStoredEntry)
        ),
        ("KbEntryVersions", "serialization", TypeAdapter(KbEntryVersions)),
        ("ApiError", "serialization", TypeAdapter(ApiError)),
    ]
    refs, definitions = TypeAdapter.json_schemas(inputs, ref_template=_REF, schema_generator=_Emitted)
    components = dict(definitions.get("$defs", {}))
    # A union has no definition of its own: name it, so operations refer to it like a model.
    components["UnitAction"] = refs[("UnitAction", "validation")]
    return refs, components


def _ref(refs: dict[tuple[str, JsonSchemaMode], Any], name: str, mode: JsonSchemaMode) -> dict[str, Any]:
    schema = refs[(name, mode)]
    return {"$ref": _REF.format(model=name)} if "$ref" not in schema else dict(schema)


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(refs: dict[tuple[str, JsonSchemaMode], Any], *statuses: str) -> dict[str, Any]:
    error = _ref(refs, "ApiError", "serialization")
    why = {
        "401": "no token, or an unknown or revoked one",
        "403": "the token's holder may not use this endpoint or give this command"
        " (or the knowledge-base entry is another unit's: not_your_entry)",
        "404": "what the request names does not exist",
        "422": "the body is not valid: each field and why",
        "503": "Kafka or PostgreSQL is not reachable now: retry the same request",
    }
    return {status: _json(error, why[status]) for status in statuses}


TICKET_ID = {"name": "ticket_id", "in": "path", "required": True, "schema": {"type": "string"}}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "The same key (same holder, ticket and command) is the same command: a retry acts once.",
    "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
}


def _unit_paths(refs: dict[tuple[str, JsonSchemaMode], Any]) -> dict[str, Any]:
    limit = {"type": "integer", "minimum": 1, "maximum": ORDERS_LIMIT_MAX, "default": 200}
    orders = {
        "operationId": "listMyOpenOrders",
        "tags": ["units"],
        "summary": "我的在办工单: the orders this unit holds now (caller masked; none for reports)",
        "parameters": [{"name": "limit", "in": "query", "required": False, "schema": limit}],
        "responses": {
            "200": _json(_ref(refs, "OpenOrders", "serialization"), "the unit's open orders"),
            **_errors(refs, "401", "403", "422", "503"),
        },
    }
    act = {
        "operationId": "actOnMyOrder",
        "tags": ["units"],
        "summary": "签收/退单/延期/进展/协办反馈/办结: the unit's action, as on its actions topic",
        "parameters": [TICKET_ID],
        "requestBody": {"required": True, **_json(_ref(refs, "UnitAction", "validation"), "the action")},
        "responses": {
            "202": _json(_ref(refs, "ActionAccepted", "serialization"), "on the unit's actions topic"),
            **_errors(refs, "401", "403", "422", "503"),
        },
    }
    return {UNIT_ORDERS_PATH: {"get": orders}, UNIT_ACTIONS_PATH: {"post": act}} | _kb_paths(refs)


ENTRY_ID = {"name": "entry_id", "in": "path", "required": True, "schema": {"type": "string"}}


def _kb_paths(refs: dict[tuple[str, JsonSchemaMode], Any]) -> dict[str, Any]:
    def operation(operation_id: str, summary: str, ok: str, model: str, *errors: str) -> dict[str, Any]:
        status = "201" if operation_id == "putMyKbEntry" else "200"
        responses = {"200": _json(_ref(refs, model, "serialization"), ok)}
        if status == "201":
            responses["201"] = _json(_ref(refs, model, "serialization"), "created (version 1)")
        return {
            "operationId": operation_id,
            "tags": ["units"],
            "summary": summary,
            **({"parameters": [ENTRY_ID]} if operation_id != "listMyKbEntries" else {}),
            "responses": responses | _errors(refs, "401", "403", *errors, "503"),
        }

    put = operation(
        "putMyKbEntry",
        "写知识库条目: create or update one of this unit's entries (unchanged when equal)",
        "updated (a version more) or unchanged",
        "KbEntryWritten",
        "422",
    )
    put["requestBody"] = {"required": True, **_json(_ref(refs, "KbEntry", "validation"), "the entry")}
    return {
        UNIT_KB_PATH: {
            "get": operation(
                "listMyKbEntries", "我的知识库: this unit's entries (not retired)", "entries", "KbEntries"
            )
        },
        UNIT_KB_ENTRY_PATH: {
            "put": put,
            "delete": operation(
                "retireMyKbEntry",
                "停用知识库条目: retire one of this unit's entries (the desk no longer finds it)",
                "retired",
                "KbStoredEntry",
                "404",
            ),
        },
        UNIT_KB_VERSIONS_PATH: {
            "get": operation(
                "listMyKbEntryVersions",
                "条目历史: every version of one of this unit's entries, who and when",
                "the versions, oldest first",
                "KbEntryVersions",
                "404",
            )
        },
    }


def _control_path(refs: dict[tuple[str, JsonSchemaMode], Any], endpoint: ControlEndpoint) -> dict[str, Any]:
    name = endpoint.request.__name__
    first, *rest = str(endpoint.command.model_fields["type"].default).split("_")
    operation = {
        "operationId": first + "".join(part.title() for part in rest),
        "tags": ["control room"],
        "summary": endpoint.summary,
        "parameters": [TICKET_ID, IDEMPOTENCY_KEY],
        "requestBody": {"required": True, **_json(_ref(refs, name, "validation"), "the command's fields")},
        "responses": {
            "202": _json(_ref(refs, "CommandAccepted", "serialization"), "on tickets.commands"),
            **_errors(refs, "401", "403", *(("404",) if endpoint.path == "merge" else ()), "422", "503"),
        },
    }
    return {"post": operation}


def openapi_document() -> dict[str, Any]:
    """The whole document, OpenAPI 3.1 (its schemas are JSON Schema 2020-12, as pydantic writes)."""
    refs, components = _schemas()
    paths = _unit_paths(refs) | {
        CONTROL_PATH.replace("{command}", e.path): _control_path(refs, e) for e in CONTROL_ENDPOINTS
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Shaobao (哨报) units and control-room API",
            "version": API_VERSION,
            "description": DESCRIPTION,
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "tags": [
            {
                "name": "units",
                "description": "A unit's system: its open orders, its actions on them, its knowledge base.",
            },
            {"name": "control room", "description": "Control-room (and supervisor) commands on tickets."},
        ],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "shaobao tokens issue"}
            },
        },
    }


def openapi_json() -> str:
    """The document as published in `schemas/openapi.json`."""
    return json.dumps(openapi_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
