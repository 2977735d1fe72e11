"""The real stack for integration tests: Kafka and PostgreSQL started once per session (or
reused, or taken from KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL), and one isolated pipeline
(fresh database, unique topic prefix, a real worker process) shared by the session."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from infra.local.services import running_services
from shaobao.launch import Pipeline, isolated_pipeline

REPO = Path(__file__).resolve().parents[2]
STATE_DIR = Path(os.environ.get("SHAOBAO_STATE_DIR", REPO / ".state"))
Stack = Pipeline


@pytest.fixture(scope="session")
def endpoints() -> Iterator[object]:
    with running_services(STATE_DIR) as found:
        yield found


@pytest.fixture(scope="session")
def stack(endpoints: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    workdir = tmp_path_factory.mktemp("pipeline")
    with isolated_pipeline(
        endpoints.kafka_bootstrap_servers,  # type: ignore[attr-defined]
        endpoints.database_url,  # type: ignore[attr-defined]
        workdir,
    ) as pipeline:
        yield pipeline


@pytest.fixture
async def db(stack: Pipeline) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(stack.settings.database_url)
    try:
        yield conn
    finally:
        await conn.close()
