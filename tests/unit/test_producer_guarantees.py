"""Every producer of the project waits for every in-sync replica and is idempotent (issue 16)."""

from __future__ import annotations

import ast
from pathlib import Path

import faust
import pytest

from streams import guaranteed_producer
from streams.kafka_access import PRODUCER_GUARANTEES, KafkaAccess

REPO = Path(__file__).resolve().parents[2]
EVERYWHERE = ("agents", "bench", "domain", "infra", "schemas", "shaobao", "streams", "tests", "web")


def test_producer_options_add_the_guarantees_to_the_client_options() -> None:
    access = KafkaAccess("b1:9092,b2:9092", security_protocol="SASL_PLAINTEXT", username="u", password="p")
    options = access.producer_options(linger_ms=5)
    assert options == {**access.client_options(), "acks": "all", "enable_idempotence": True, "linger_ms": 5}


@pytest.mark.parametrize("weaker", [{"acks": 1}, {"enable_idempotence": False}])
def test_tuning_may_not_weaken_them(weaker: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="may not override"):
        KafkaAccess("b1:9092").producer_options(**weaker)


def called_name(call: ast.Call) -> str:
    return str(getattr(call.func, "id", getattr(call.func, "attr", "")))


def producer_calls(path: Path) -> list[ast.Call]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    return [call for call in calls if called_name(call) == "AIOKafkaProducer"]


def built_from_producer_options(call: ast.Call) -> bool:
    """`AIOKafkaProducer(**<access>.producer_options(...))` and nothing beside it."""
    if call.args or len(call.keywords) != 1 or call.keywords[0].arg is not None:
        return False
    inner = call.keywords[0].value
    return isinstance(inner, ast.Call) and called_name(inner) == "producer_options"


def test_every_producer_in_the_project_is_built_from_producer_options() -> None:
    calls = {
        f"{path.relative_to(REPO)}:{call.lineno}": built_from_producer_options(call)
        for package in EVERYWHERE
        for path in (REPO / package).rglob("*.py")
        for call in producer_calls(path)
    }
    assert len(calls) >= 17, calls  # the web's, importers', simulators', CLI's, benches', tests'
    assert {where for where, ok in calls.items() if not ok} == set()


def test_the_workers_producer_asks_the_same() -> None:
    app = faust.App("guarantees-test", broker="kafka://127.0.0.1:9092")
    guaranteed_producer.install(app)
    producer = app.producer
    assert isinstance(producer, guaranteed_producer.GuaranteedProducer)
    settings = producer._settings_extra()  # noqa: SLF001 - what the producer thread is built with
    assert {key: settings[key] for key in PRODUCER_GUARANTEES} == PRODUCER_GUARANTEES
    with pytest.raises(RuntimeError, match="before the app's producer is created"):
        guaranteed_producer.install(app)
