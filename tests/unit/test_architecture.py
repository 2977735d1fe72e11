"""Dependency direction, as `make check` checks it: the import contracts in pyproject.toml
(`[tool.importlinter]`: shaobao > infra > web > agents > streams > domain > schemas, infra uses
only `web.ports` of the web, no broker or database library below agents)."""

from __future__ import annotations

from pathlib import Path

import pytest
from importlinter.cli import EXIT_STATUS_SUCCESS, lint_imports

REPO = Path(__file__).resolve().parents[2]


def test_every_import_contract_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # the root packages are found from the repository's root
    status = lint_imports(config_filename="pyproject.toml", no_cache=True, no_logo=True)
    assert status == EXIT_STATUS_SUCCESS, "an import contract is broken: see the report above"
