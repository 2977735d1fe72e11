"""Hot reload: a jurisdiction published to `config.reference` routes the next appeal, without a restart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import yaml

from infra.local.services import ServiceEndpoints
from infra.reference import read_reference
from shaobao.launch import Pipeline, isolated_pipeline
from streams.settings import DEFAULT_JURISDICTION
from tests.integration.kafkatools import appeal, encoded, eventually, produce, read_all
from tests.integration.lifecycletools import routed_ticket

pytestmark = pytest.mark.integration
LEXICON = DEFAULT_JURISDICTION.with_name("sample-county.lexicon.yaml")
# The sewer appeal of kafkatools.appeal(): zjj leads it, the town helps.
CATEGORY, OLD_LEAD, NEW_LEAD = "drainage.sewer", "zjj", "cgj"


@pytest.fixture(scope="module")
def pipeline(endpoints: ServiceEndpoints, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    # A pipeline of its own: publishing a jurisdiction must not reroute other tests' appeals.
    workdir = tmp_path_factory.mktemp("hot-reload")
    with isolated_pipeline(endpoints.kafka, endpoints.database_url, workdir, "hr") as run:
        yield run


@pytest.fixture
async def db(pipeline: Pipeline) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(pipeline.settings.database_url)
    try:
        yield conn
    finally:
        await conn.close()


def jurisdiction_led_by(lead: str, path: Path) -> Path:
    """The shipped jurisdiction with the sewer category led by `lead` instead."""
    data = yaml.safe_load(DEFAULT_JURISDICTION.read_text(encoding="utf-8"))
    for category in data["categories"]:
        if category["code"] == CATEGORY:
            category["lead"] = lead
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def shaobao(pipeline: Pipeline, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own entry point
        [sys.executable, "-m", "shaobao.cli", *args],
        env={**os.environ, **pipeline.env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def routed(pipeline: Pipeline, db: asyncpg.Connection) -> tuple[str, str]:
    """Send the sewer appeal; its ticket's lead unit and the jurisdiction version its triage used."""
    record = appeal()
    await produce(pipeline.settings.kafka, pipeline.names.intake, [encoded(record)])
    # Routed, not merely received: the sink may write `ticket_received` and the dispatch apart.
    row = await eventually(lambda: routed_ticket(db, record["source_id"]), timeout_s=60)
    state = json.loads(row["state"])
    return row["lead_unit"], state["triage"]["jurisdiction_version"]


async def alerts_of(pipeline: Pipeline, kind: str) -> list[dict[str, Any]]:
    records = await read_all(pipeline.settings.kafka, pipeline.names.alerts)
    return [alert for _, value in records if (alert := json.loads(value))["kind"] == kind]


async def applied_alert(pipeline: Pipeline, version: str) -> dict[str, Any] | None:
    found = [a for a in await alerts_of(pipeline, "reference_applied") if a["details"]["version"] == version]
    return found[0] if found else None


async def all_alerts(pipeline: Pipeline, kind: str, count: int) -> list[dict[str, Any]] | None:
    found = await alerts_of(pipeline, kind)
    return found if len(found) >= count else None


async def test_a_published_jurisdiction_routes_the_next_appeal_and_an_invalid_one_changes_nothing(
    pipeline: Pipeline, db: asyncpg.Connection, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    shipped = read_reference(DEFAULT_JURISDICTION, LEXICON, now).version
    assert await routed(pipeline, db) == (OLD_LEAD, shipped)

    rerouted = jurisdiction_led_by(NEW_LEAD, tmp_path / "rerouted.yaml")
    new_version = read_reference(rerouted, LEXICON, now).version
    done = shaobao(pipeline, "reference", "publish", str(rerouted), "--lexicon", str(LEXICON))
    assert done.returncode == 0, done.stderr
    assert done.stdout == (f"published sample-county version {new_version} to {pipeline.names.reference}\n")

    applied = await eventually(lambda: applied_alert(pipeline, new_version), timeout_s=60)
    assert applied["details"]["previous"] == shipped
    assert await routed(pipeline, db) == (NEW_LEAD, new_version)

    # The CLI refuses a jurisdiction that routes to a unit it does not know, and publishes nothing.
    broken = jurisdiction_led_by("nobody", tmp_path / "broken.yaml")
    refused = shaobao(pipeline, "reference", "publish", str(broken), "--lexicon", str(LEXICON))
    assert refused.returncode == 2
    assert "invalid reference, nothing published" in refused.stderr
    assert "category drainage.sewer routes to unknown units ['nobody']" in refused.stderr
    published = await read_all(pipeline.settings.kafka, pipeline.names.reference)
    assert len(published) == 1

    # Records written past the CLI (another tool, a bad hand) are refused by the workers, loudly:
    # one that is not a reference at all, and one whose jurisdiction routes to an unknown unit.
    unchecked = read_reference(broken, LEXICON, now)
    await produce(
        pipeline.settings.kafka,
        pipeline.names.reference,
        [
            (b"sample-county", b'{"schema_version": 1, "version": "bad"}'),
            (b"sample-county", unchecked.model_dump_json().encode()),
        ],
    )
    rejected = await eventually(lambda: all_alerts(pipeline, "reference_rejected", 2), timeout_s=60)
    assert [(a["severity"], a["details"]["kept_version"]) for a in rejected] == [
        ("critical", new_version),
        ("critical", new_version),
    ]
    reasons = sorted(str(a["details"]["reason"]) for a in rejected)
    assert reasons[0].startswith("invalid jurisdiction: 1 validation error")
    assert "category drainage.sewer routes to unknown units ['nobody']" in reasons[0]
    assert reasons[1].startswith("not a ReferencePublished record: 4 validation errors")
    assert await routed(pipeline, db) == (NEW_LEAD, new_version)
    assert len(await alerts_of(pipeline, "reference_applied")) == 1
