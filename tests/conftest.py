"""Shared fixtures: the jurisdiction, and for integration tests the real Kafka and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.jurisdiction import Jurisdiction
from infra.kafka.topics import delete_topics, list_topic_names
from infra.local.services import ServiceEndpoints, running_services
from infra.reference import load_jurisdiction
from shaobao.launch import ISSUED_TOPIC_PREFIXES, run_coroutine
from streams.settings import DEFAULT_JURISDICTION
from tests import cross_beside

REPO = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("SHAOBAO_STATE_DIR", REPO / ".state"))


def pytest_collection_finish(session: pytest.Session) -> None:
    # The triage floors read a cross that takes minutes of CPU: start it now, beside the
    # broker tests that run first and mostly wait (see tests/cross_beside.py).
    if any("cross_rows" in getattr(item, "fixturenames", ()) for item in session.items):
        cross_beside.start()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    cross_beside.stop()


@pytest.fixture(scope="session")
def jurisdiction() -> Jurisdiction:
    return load_jurisdiction(DEFAULT_JURISDICTION)


@pytest.fixture(scope="session")
def endpoints() -> Iterator[ServiceEndpoints]:
    """Real Kafka and PostgreSQL: reused when running, started (and later stopped) when not,
    or taken from KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL."""
    with running_services(STATE_DIR) as found:
        yield found
        # The broker outlives the session when it was already running: remove this session's
        # pipelines' topics (Faust's changelogs share the prefix), and only those.
        issued = tuple(ISSUED_TOPIC_PREFIXES)
        kafka = found.kafka
        names = run_coroutine(list_topic_names(kafka))
        run_coroutine(delete_topics(kafka, {n for n in names if n.startswith(issued)}))
