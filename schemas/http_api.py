"""The HTTP API for units and the control room: its paths, request and response bodies.

A unit's action is exactly the `UnitAction` it would write to `units.<unit>.actions`. A
control-room request is its command (`schemas.commands`) less what the API fills in: the id
(from the `Idempotency-Key`), the ticket (from the path), the time, and who (the token).
Request models are derived from the commands, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, create_model

from schemas.base import AwareDatetime, WireModel
from schemas.commands import (
    CloseTicket,
    ControlCommand,
    DeclareConfidential,
    DenyExtension,
    DenyReturn,
    DispatchTicket,
    GrantExtension,
    JudgeUnreasonable,
    MergeAppeal,
    RecordCallback,
    RedispatchTicket,
    ReworkTicket,
)
from schemas.kb import KbEntry
from schemas.orders import WorkOrder

UNIT_ORDERS_PATH = "/api/units/me/orders"
UNIT_ACTIONS_PATH = "/api/units/me/orders/{ticket_id}/actions"
UNIT_KB_PATH = "/api/units/me/kb"
UNIT_KB_ENTRY_PATH = "/api/units/me/kb/{entry_id}"
UNIT_KB_VERSIONS_PATH = "/api/units/me/kb/{entry_id}/versions"
CONTROL_PATH = "/api/control/tickets/{ticket_id}/{command}"
OPENAPI_PATH = "/api/openapi.json"
IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9._~:-]{1,128}$"
ORDERS_LIMIT_MAX = 1000
# What the API fills in from the path, the token, the key and the clock.
_FILLED_IN = frozenset({"schema_version", "type", "command_id", "ticket_id", "issued_at", "operator", "role"})


def _request_model(command: type[ControlCommand], summary: str, looked_up: frozenset[str]) -> type[WireModel]:
    fields: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in command.model_fields.items()
        if name not in _FILLED_IN | looked_up
    }
    model: type[WireModel] = create_model(
        f"{command.__name__}Request", __base__=WireModel, __doc__=command.__doc__ or summary, **fields
    )
    return model


@dataclass(frozen=True)
class ControlEndpoint:
    """`POST /api/control/tickets/{ticket_id}/<path>`: one control-room command."""

    path: str
    command: type[ControlCommand]
    summary: str
    request: type[WireModel]


def _endpoint(path: str, command: type[ControlCommand], summary: str, *looked_up: str) -> ControlEndpoint:
    return ControlEndpoint(path, command, summary, _request_model(command, summary, frozenset(looked_up)))


CONTROL_ENDPOINTS: tuple[ControlEndpoint, ...] = (
    _endpoint("dispatch", DispatchTicket, "人工派单: dispatch a manual-queue ticket to a lead and co units"),
    _endpoint("redispatch", RedispatchTicket, "改派: to the units named, or to the router's next candidate"),
    _endpoint("deny-return", DenyReturn, "退单不予认可: the order stays with the unit that returned it"),
    _endpoint("grant-extension", GrantExtension, "批准延期: as asked or less, capped by extension_max"),
    _endpoint("deny-extension", DenyExtension, "不予延期: the limit stands"),
    _endpoint("callback", RecordCallback, "回访: record one citizen's answer"),
    _endpoint("rework", ReworkTicket, "发回重办: back to the same units with the rework limit"),
    _endpoint("judge-unreasonable", JudgeUnreasonable, "诉求不合理 (supervisor): closes the ticket"),
    _endpoint("close", CloseTicket, "销号: close a ticket no unit is working on"),
    _endpoint(
        "confidential",
        DeclareConfidential,
        "声明保密: withhold the caller from units and the public from now on",
    ),
    # The source ticket's appeal is read by the API from the tickets it knows.
    _endpoint(
        "merge", MergeAppeal, "多人反映合并: attach another ticket's citizen to this one", "source_appeal"
    ),
)
CONTROL_BY_PATH = {endpoint.path: endpoint for endpoint in CONTROL_ENDPOINTS}


class OpenOrders(WireModel):
    """The orders a unit holds now (being worked on), oldest first; the caller is masked."""

    unit: str
    orders: tuple[WorkOrder, ...]
    truncated: bool = Field(description="More orders are open than `limit` returned.")


class ActionAccepted(WireModel):
    """The action is on the unit's actions topic; the ticket agent decides what it does."""

    ticket_id: str
    action_id: str
    command_id: str = Field(description="`unit:<unit>:<action_id>`, as on `tickets.commands`.")


class CommandAccepted(WireModel):
    """The command is on `tickets.commands`; the ticket agent decides what it does."""

    ticket_id: str
    command_id: str
    type: str


class KbStoredEntry(WireModel):
    """A knowledge-base entry as kept: the entry, its version, and who wrote it last, when."""

    entry: KbEntry
    version: int
    updated_by: str
    updated_at: AwareDatetime
    retired_at: AwareDatetime | None = Field(description="Set once retired: the desk no longer finds it.")


class KbEntries(WireModel):
    """The unit's knowledge-base entries (not retired), by id."""

    unit: str
    entries: tuple[KbStoredEntry, ...]


class KbEntryWritten(WireModel):
    """What a PUT did: created (version 1), updated (a version more), or unchanged (equal)."""

    outcome: Literal["created", "updated", "unchanged"]
    stored: KbStoredEntry


class KbEntryVersion(WireModel):
    """One version of an entry: who changed it, when, how; the entry as it then was (null once retired)."""

    version: int
    change: Literal["created", "updated", "retired", "imported"]
    changed_by: str
    changed_at: AwareDatetime
    entry: KbEntry | None


class KbEntryVersions(WireModel):
    entry_id: str
    versions: tuple[KbEntryVersion, ...]


class FieldError(WireModel):
    field: str
    message: str
    type: str


class ApiError(WireModel):
    """Why a request was not accepted; submitted values are never echoed."""

    error: str
    message: str
    fields: tuple[FieldError, ...] = ()
