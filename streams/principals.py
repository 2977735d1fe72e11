"""Who may read and write which topic: one Kafka principal per process kind and per unit.

A unit's identity is the topic it writes to (DESIGN.md), and the broker enforces it: the
principal `unit-<code>` may write only `units.<code>.actions` and read only
`units.<code>.orders` (with its own consumer group). The other principals get what their
process does and nothing more; `admin` is the cluster's super user and is not listed here.

- `worker`: reads and writes every topic under the prefix, creates Faust's internal
  topics, and owns the app's consumer group.
- `web`: reads events, alerts and reference; writes intake, commands and every unit's
  actions (the units' HTTP API); describes the app's group.
- `simulator`: writes intake. `importer`: writes intake and rejected.
- `units-simulator`: reads every unit's orders, writes every unit's actions, its own group.
- `callbacks-simulator`: reads events, writes commands.
- `cli`: reads every topic under the prefix and creates topics; writes intake, commands,
  alerts, reference, rejected and dead letters; describes the app's group.
- `unit-<code>`: reads `units.<code>.orders`, writes `units.<code>.actions`; groups
  `unit-<code>` and `unit-<code>.*`.

Names are relative to the deployment's topic prefix, so a second deployment on the same
cluster (another prefix) gets bindings of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from streams.names import TopicNames

Resource = Literal["topic", "group", "cluster"]
Pattern = Literal["literal", "prefixed"]
Operation = Literal["all", "read", "write", "create", "delete", "alter", "describe"]

ADMIN = "admin"
PROCESS_PRINCIPALS = (
    "worker",
    "web",
    "simulator",
    "units-simulator",
    "callbacks-simulator",
    "importer",
    "cli",
)


@dataclass(frozen=True, order=True)
class Grant:
    """One ALLOW binding: `principal` may `operation` on the `resource` named (or prefixed) `name`."""

    principal: str
    resource: Resource
    name: str
    operation: Operation
    pattern: Pattern = "literal"


def unit_principal(unit: str) -> str:
    return f"unit-{unit}"


def unit_group(names: TopicNames, unit: str) -> str:
    return f"{names.prefix}{unit_principal(unit)}"


def unit_grants(names: TopicNames, unit: str) -> list[Grant]:
    principal = unit_principal(unit)
    return [
        Grant(principal, "topic", names.unit_actions(unit), "write"),
        Grant(principal, "topic", names.unit_orders(unit), "read"),
        Grant(principal, "group", unit_group(names, unit), "read"),
        Grant(principal, "group", unit_group(names, unit) + ".", "read", "prefixed"),
    ]


def _topics(principal: str, operation: Operation, topics: Iterable[str]) -> list[Grant]:
    return [Grant(principal, "topic", topic, operation) for topic in topics]


def _under_prefix(principal: str, names: TopicNames, operations: Iterable[Operation]) -> list[Grant]:
    """Every topic of the deployment: a prefixed binding, or the cluster's topics without a prefix."""
    if names.prefix:
        return [Grant(principal, "topic", names.prefix, op, "prefixed") for op in operations]
    return [Grant(principal, "topic", "*", op) for op in operations]


def process_grants(names: TopicNames, units: Iterable[str]) -> list[Grant]:
    units = sorted(units)
    actions = [names.unit_actions(unit) for unit in units]
    orders = [names.unit_orders(unit) for unit in units]
    simulator_group = f"{names.app_id}-unit-simulator"
    return sorted(
        [
            *_under_prefix("worker", names, ("read", "write", "create", "describe")),
            Grant("worker", "group", names.app_id, "all"),
            *_topics("web", "read", (names.events, names.alerts, names.reference)),
            *_topics("web", "write", (names.intake, names.commands, *actions)),
            Grant("web", "group", names.app_id, "describe"),
            *_topics("simulator", "write", (names.intake,)),
            *_topics("units-simulator", "read", orders),
            *_topics("units-simulator", "write", actions),
            Grant("units-simulator", "group", simulator_group, "read"),
            *_topics("callbacks-simulator", "read", (names.events,)),
            *_topics("callbacks-simulator", "write", (names.commands,)),
            *_topics("importer", "write", (names.intake, names.rejected)),
            *_under_prefix("cli", names, ("read", "describe", "create")),
            *_topics(
                "cli",
                "write",
                (
                    names.intake,
                    names.commands,
                    names.alerts,
                    names.reference,
                    names.rejected,
                    names.dead_letters,
                ),
            ),
            Grant("cli", "group", names.app_id, "describe"),
        ]
    )


def all_grants(names: TopicNames, units: Iterable[str]) -> list[Grant]:
    units = sorted(units)
    return process_grants(names, units) + [grant for unit in units for grant in unit_grants(names, unit)]
