"""Shared fixtures: the jurisdiction, and for integration tests the real Kafka and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.jurisdiction import Jurisdiction
from infra.reference import load_jurisdiction
from streams.settings import DEFAULT_JURISDICTION

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def jurisdiction() -> Jurisdiction:
    return load_jurisdiction(DEFAULT_JURISDICTION)
