"""The real stack for integration tests: Kafka and PostgreSQL started once per session (or
reused, or taken from KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL), and one isolated pipeline
(fresh database, unique topic prefix, a real worker process) shared by the session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from infra.local.services import ServiceEndpoints
from shaobao.launch import Pipeline, isolated_pipeline

Stack = Pipeline


@pytest.fixture(scope="session")
def stack(endpoints: ServiceEndpoints, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    workdir = tmp_path_factory.mktemp("pipeline")
    with isolated_pipeline(
        endpoints.kafka,
        endpoints.database_url,
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
