"""Dependency direction: schemas ← domain ← agents/streams/web; infra and shaobao wire them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "schemas": {
        "domain",
        "agents",
        "streams",
        "infra",
        "web",
        "shaobao",
        "faust",
        "aiokafka",
        "asyncpg",
        "starlette",
    },
    "domain": {
        "agents",
        "streams",
        "infra",
        "web",
        "shaobao",
        "faust",
        "aiokafka",
        "asyncpg",
        "starlette",
        "uvicorn",
        "httpx",
        "yaml",
    },
    "agents": {"infra", "web", "shaobao", "asyncpg", "starlette"},
    "streams": {"agents", "infra", "web", "shaobao", "asyncpg", "starlette"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_nothing_it_must_not(package: str) -> None:
    offenders = {
        str(path.relative_to(REPO)): sorted(imported_roots(path) & FORBIDDEN[package])
        for path in (REPO / package).rglob("*.py")
    }
    assert {file: names for file, names in offenders.items() if names} == {}
