"""The published wire contract (schemas/json/*.schema.json, schemas/asyncapi.yaml) is what the models
say, and valid JSON Schema (the AsyncAPI parser runs in tests/integration/test_asyncapi_parser.py)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml
from jsonschema import Draft202012Validator
from pydantic import TypeAdapter

from domain.jurisdiction import Jurisdiction
from schemas import contract
from schemas.base import WireModel
from shaobao import contract_cli
from streams.names import TopicNames

REPO = Path(__file__).resolve().parents[2]
ASYNCAPI = REPO / "schemas" / "asyncapi.yaml"


@pytest.fixture(scope="module")
def expected() -> dict[str, str]:
    return contract_cli.expected_files()


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded = yaml.safe_load(ASYNCAPI.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_the_published_files_are_exactly_what_the_models_produce(expected: dict[str, str]) -> None:
    stale = contract_cli.stale_files(expected)
    assert stale == [], (
        "stale wire-contract files: "
        + ", ".join(f"schemas/{name}" for name in stale)
        + f"; regenerate them with `{contract_cli.FIX_COMMAND}` "
        "(or `.venv/bin/python -m shaobao.contract_cli write`) and commit the result"
    )


def test_check_names_changed_missing_and_left_over_files_and_write_fixes_them(
    expected: dict[str, str], tmp_path: Path
) -> None:
    root = tmp_path / "schemas"
    assert contract_cli.write(expected, io.StringIO(), root) == 0
    (root / "json" / "alert.schema.json").write_text("{}\n", encoding="utf-8")
    (root / "asyncapi.yaml").unlink()
    (root / "json" / "retired.schema.json").write_text("{}\n", encoding="utf-8")

    report = io.StringIO()
    assert contract_cli.check(expected, report, root) == 1
    assert report.getvalue().splitlines() == [
        "stale wire-contract files (they differ from what the models produce):",
        "  schemas/asyncapi.yaml",
        "  schemas/json/alert.schema.json",
        "  schemas/json/retired.schema.json",
        "to fix, run: shaobao contract write",
    ]
    assert contract_cli.write(expected, io.StringIO(), root) == 0
    assert contract_cli.check(expected, io.StringIO(), root) == 0
    assert not (root / "json" / "retired.schema.json").exists()


def test_one_json_schema_per_registered_payload_with_id_title_and_version(expected: dict[str, str]) -> None:
    files = {name: json.loads(text) for name, text in expected.items() if name.endswith(".schema.json")}
    assert sorted(files) == sorted(payload.file for payload in contract.PAYLOADS)
    required = ("appeal", "ticket-command", "ticket-event", "work-order", "appeal-rejected", "alert")
    assert {f"json/{name}.schema.json" for name in required} <= set(files)
    for payload in contract.PAYLOADS:
        schema = files[payload.file]
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert (schema["$id"], schema["title"]) == (payload.schema_id, payload.name)
        versions = {model["properties"]["schema_version"]["const"] for model in _roots(schema)}
        assert schema["x-schema-version"] == versions.pop() and not versions
        assert expected[payload.file].endswith("}\n")


def _roots(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The payload's model, or each variant of a tagged union."""
    if "oneOf" not in schema:
        return [schema]
    return [schema["$defs"][ref["$ref"].rsplit("/", 1)[-1]] for ref in schema["oneOf"]]


def _object_schemas(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in [schema, *schema.get("$defs", {}).values()] if "properties" in s]


def test_what_shaobao_sends_has_every_field_required_and_what_it_accepts_keeps_defaults_optional(
    expected: dict[str, str],
) -> None:
    for payload in contract.PAYLOADS:
        schema = json.loads(expected[payload.file])
        if contract.payload_mode(payload) == "serialization":
            for model in _object_schemas(schema):
                assert sorted(model["required"]) == sorted(model["properties"]), (
                    payload.name,
                    model["title"],
                )
    appeal = json.loads(expected["json/appeal.schema.json"])
    assert appeal["required"] == ["channel", "source_id", "received_at", "text"]


def test_the_document_has_a_channel_for_every_topic_of_the_contract(document: dict[str, Any]) -> None:
    names = TopicNames()
    channels = document["channels"]
    assert sorted(channel["address"] for channel in channels.values()) == sorted(
        [names.intake, names.rejected, names.commands, names.events, names.alerts, names.reference]
        + [names.dead_letters]
        + [names.unit_orders("{unit}"), names.unit_actions("{unit}")]
    )
    keys = {
        channel["address"]: document_message["bindings"]["kafka"]["key"]["description"]
        for channel in channels.values()
        for document_message in _messages(document, channel)
    }
    assert keys["appeals.intake"].startswith("`channel:source_id`")
    assert keys["tickets.commands"].startswith("`ticket_id`")
    assert keys["units.{unit}.orders"].startswith("`ticket_id`")


def _messages(document: dict[str, Any], channel: dict[str, Any]) -> list[dict[str, Any]]:
    messages = document["components"]["messages"]
    return [messages[ref["$ref"].rsplit("/", 1)[-1]] for ref in channel["messages"].values()]


def test_the_unit_parameter_lists_every_unit_of_the_shipped_jurisdiction(
    document: dict[str, Any], jurisdiction: Jurisdiction
) -> None:
    unit = document["components"]["parameters"]["unit"]
    assert unit["enum"] == list(jurisdiction.unit_codes)
    assert "`zjj` 市住房和城乡建设局" in unit["description"]


def test_operations_say_which_side_shaobao_is_on(document: dict[str, Any]) -> None:
    operations = document["operations"]
    sides = {(op["action"], op["channel"]["$ref"].rsplit("/", 1)[-1]) for op in operations.values()}
    assert ("send", "unitOrders") in sides and ("receive", "unitOrders") not in sides
    assert ("receive", "appealsIntake") in sides
    description = document["info"]["description"]
    for promise in (
        "`order_id`",
        "`event_id`",
        "idempotent",
        "SHAOBAO_TOPIC_PREFIX",
        "| 诉求 |",
        "| 派单 / 改派 |",
    ):
        assert promise in description, promise


class _TupleProbe(WireModel):
    schema_version: Literal[1] = 1
    pair: tuple[str, int]
    labels: dict[str, str] = {"discriminator": "data, not a keyword"}


def test_asyncapi_schemas_spell_2020_12_keywords_the_draft_07_way_or_refuse_them() -> None:
    schema = contract.as_asyncapi_schema(TypeAdapter(_TupleProbe).json_schema(mode="serialization"))
    assert schema["properties"]["pair"]["items"] == [{"type": "string"}, {"type": "integer"}]
    assert schema["properties"]["pair"]["additionalItems"] is False
    assert "prefixItems" not in schema["properties"]["pair"]
    assert schema["properties"]["labels"]["default"] == {"discriminator": "data, not a keyword"}
    union = contract.as_asyncapi_schema(
        {"oneOf": [{"$ref": "#/a"}], "discriminator": {"propertyName": "type"}}
    )
    assert union["discriminator"] == "type"
    with pytest.raises(ValueError, match="unevaluatedProperties"):
        contract.as_asyncapi_schema({"properties": {"x": {"unevaluatedProperties": False}}})
