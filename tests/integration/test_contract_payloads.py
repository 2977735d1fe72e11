"""Real payloads, read back from the real topics, are valid against the published JSON Schemas.

The schemas are the files on disk (schemas/json/), as a department would download them, not
regenerated: this is what an integrator in Java/Go/C# will validate or generate code from.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.integration.conftest import Stack
from tests.integration.kafkatools import appeal, encoded, eventually, produce, read_all

pytestmark = pytest.mark.integration

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "json"
Record = tuple[bytes | None, bytes]


def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    # Format checking is off by default in jsonschema; timestamps must carry their offset.
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def valid_payloads(name: str, records: list[Record]) -> list[dict[str, Any]]:
    """Every record's value, each validated against the published schema (all errors shown)."""
    check = validator(name)
    payloads = [json.loads(value) for _, value in records]
    for payload in payloads:
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in check.iter_errors(payload)]
        assert not errors, f"{name}: {errors} in {payload}"
    return payloads


async def records_keyed(stack: Stack, topic: str, key: str) -> list[Record]:
    records = await read_all(stack.settings.kafka, topic)
    return [(k, v) for k, v in records if k == key.encode()]


def test_the_published_validators_check_timestamps() -> None:
    # Without a date-time checker (rfc3339-validator), `format` is silently not checked at all.
    assert "date-time" in Draft202012Validator.FORMAT_CHECKER.checkers
    check = validator("appeal")
    good = appeal()
    assert check.is_valid(good)
    assert not check.is_valid({**good, "received_at": "2026-03-02T09:15:00"})  # no offset


async def test_real_payloads_on_every_topic_match_the_published_schemas(stack: Stack) -> None:
    kafka, names = stack.settings.kafka, stack.names
    good = appeal()
    good_key, good_value = encoded(good)
    # A channel the contract does not know: valid JSON that the schema must refuse, as the intake agent does.
    bad = appeal(channel="fax", source_id=f"contract-{uuid.uuid4().hex[:12]}")
    bad_key, bad_value = encoded(bad)
    await produce(kafka, names.intake, [(bad_key, bad_value), (good_key, good_value)])

    async def dispatched() -> dict[str, Any] | None:
        for _, value in await read_all(kafka, names.commands):
            command = json.loads(value)
            if command["appeal"]["source_id"] == good["source_id"]:
                events = await records_keyed(stack, names.events, command["ticket_id"])
                types = [json.loads(v)["type"] for _, v in events]
                return json.loads(events[-1][1]) if "ticket_dispatched" in types else None
        return None

    dispatch = await eventually(dispatched, timeout_s=60)
    ticket_id, units = dispatch["ticket_id"], [dispatch["lead"], *dispatch["co"]]

    async def orders_for(unit: str) -> list[Record]:
        records = await read_all(kafka, names.unit_orders(unit))
        return [(k, v) for k, v in records if json.loads(v)["ticket_id"] == ticket_id]

    async def all_orders() -> dict[str, list[Record]] | None:
        found = {unit: await orders_for(unit) for unit in units}
        return found if all(found.values()) else None

    orders = await eventually(all_orders)
    rejected = await eventually(lambda: records_keyed(stack, names.rejected, bad_key.decode()))
    intake = await records_keyed(stack, names.intake, good_key.decode())
    intake_bad = await records_keyed(stack, names.intake, bad_key.decode())
    commands = await records_keyed(stack, names.commands, ticket_id)
    events = await records_keyed(stack, names.events, ticket_id)
    alerts = await records_keyed(stack, names.alerts, ticket_id)

    validated = {
        "appeals.intake": len(valid_payloads("appeal", intake)),
        "tickets.commands": len(valid_payloads("ticket-command", commands)),
        "tickets.events": len(valid_payloads("ticket-event", events)),
        **{f"units.{unit}.orders": len(valid_payloads("work-order", orders[unit])) for unit in units},
        "appeals.rejected": len(valid_payloads("appeal-rejected", rejected)),
        "alerts": len(valid_payloads("alert", alerts)),
    }
    assert validated == {
        "appeals.intake": 1,
        "tickets.commands": 1,
        "tickets.events": 2,
        **{f"units.{unit}.orders": 1 for unit in units},
        "appeals.rejected": 1,
        "alerts": 0,
    }
    assert [json.loads(v)["type"] for _, v in events] == ["ticket_received", "ticket_dispatched"]
    assert units == ["zjj", "baimaqiao"]

    # The malformed record: the published Appeal schema refuses it, and its rejection names why.
    assert len(intake_bad) == 1
    refusals = [e.message for e in validator("appeal").iter_errors(json.loads(intake_bad[0][1]))]
    assert refusals == ["'fax' is not one of ['phone', 'web', 'wechat', 'app', 'sms', 'mailbox', "
                        "'transfer_110', 'hotline_12369']"]  # fmt: skip
    rejection = json.loads(rejected[0][1])
    assert (rejection["reason"], rejection["original"]) == ("schema_violation", bad_value.decode())
