"""Who an HTTP API token speaks for, and the control room's commands built from its requests.

A unit's token makes it the unit (its actions go to its own `units.<unit>.actions`, the same
path as a Kafka client's); a control-room token names a person and their role, which the
command carries. Whether the command fits the ticket is the ticket agent's decision, not this.
An intake key is one client of one channel (`channel:name`): it fixes the channel of what it
sends and puts the client's name before its source ids, so no client can take another's.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from domain.ticket.lifecycle.control import ROLE_MAY
from schemas.appeal import CHANNELS, Channel
from schemas.commands import ControlCommand

TokenRole = Literal["unit", "control_room", "supervisor", "intake", "operator"]
TOKEN_ROLES: tuple[TokenRole, ...] = ("unit", "control_room", "supervisor", "intake", "operator")
CLIENT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


@dataclass(frozen=True)
class Principal:
    """A token's holder: a unit's system (`subject` is the unit code) or a control-room person."""

    subject: str
    role: TokenRole


@dataclass(frozen=True)
class IntakeClient:
    """An intake key's holder: one client (`name`) of one channel."""

    channel: Channel
    name: str

    @property
    def subject(self) -> str:
        return f"{self.channel}:{self.name}"

    def source_id(self, sent: str) -> str:
        """The source id an appeal from this client carries: the client's own, after its name."""
        return f"{self.name}.{sent}"


def intake_client(channel: str, name: str) -> IntakeClient:
    """Raises ValueError for an unknown channel or a name that is not 1-40 of a-z 0-9 -."""
    for known in CHANNELS:
        if known == channel:
            if not CLIENT_NAME.match(name):
                raise ValueError(
                    f"client name {name!r}: 1-40 characters of a-z 0-9 -, starting with a letter or digit"
                )
            return IntakeClient(known, name)
    raise ValueError(f"unknown channel {channel!r} (one of {', '.join(CHANNELS)})")


def intake_client_of(principal: Principal) -> IntakeClient:
    """The client an intake key speaks for; raises `Forbidden` for any other token."""
    if principal.role != "intake":
        raise Forbidden(
            "this endpoint takes an intake key (shaobao tokens issue --intake CHANNEL --name NAME)"
        )
    channel, _, name = principal.subject.partition(":")
    return intake_client(channel, name)


class Forbidden(Exception):
    """The holder may not do this at all, whatever the ticket's state."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def command_type(command: type[ControlCommand]) -> str:
    """`DispatchTicket` → `dispatch_ticket`: the `type` tag the command carries."""
    return str(command.model_fields["type"].default)


def may_command(principal: Principal, command: type[ControlCommand]) -> None:
    """Raises `Forbidden` unless the holder's role may give this command (`ROLE_MAY`)."""
    if principal.role == "unit":
        raise Forbidden("a unit's token cannot give control-room commands")
    if principal.role == "intake":
        raise Forbidden("an intake key cannot give control-room commands")
    if principal.role == "operator":
        raise Forbidden("an operator (坐席) takes appeals at the desk; control-room commands are not theirs")
    kind = command_type(command)
    if kind not in ROLE_MAY[principal.role]:
        raise Forbidden(f"role {principal.role} may not {kind.replace('_', ' ')}")


def control_command_id(principal: Principal, ticket_id: str, kind: str, idempotency_key: str) -> str:
    """The same holder, ticket, command and key make the same id: a retried request acts once."""
    digest = hashlib.sha256(f"{ticket_id}\n{kind}\n{idempotency_key}".encode()).hexdigest()[:32]
    return f"http:{principal.role}:{principal.subject}:{digest}"


def body_key(body: BaseModel) -> str:
    """The idempotency key of a request that brought none: its body, so the same body is the same
    command (a person repeating a command on purpose sends an `Idempotency-Key` of their own)."""
    return "body:" + hashlib.sha256(body.model_dump_json().encode()).hexdigest()


def control_command(
    principal: Principal,
    command: type[ControlCommand],
    ticket_id: str,
    fields: dict[str, object],
    idempotency_key: str,
    now: datetime,
) -> ControlCommand:
    """The command a control-room request gives; `fields` are its body's (plus what the API
    looked up). Raises `Forbidden` for a role that may not give it."""
    may_command(principal, command)
    header = {
        "command_id": control_command_id(principal, ticket_id, command_type(command), idempotency_key),
        "ticket_id": ticket_id,
        "issued_at": now,
        "operator": principal.subject,
        "role": principal.role,
    }
    built: ControlCommand = command.model_validate(fields | header)
    return built


__all__ = [
    "TOKEN_ROLES",
    "Forbidden",
    "IntakeClient",
    "Principal",
    "TokenRole",
    "body_key",
    "command_type",
    "control_command",
    "control_command_id",
    "intake_client",
    "intake_client_of",
    "may_command",
]
