"""schemas/asyncapi.yaml is a valid AsyncAPI document by the AsyncAPI project's own parser
(Node.js 20+, and the parser in tools/asyncapi/node_modules, which `make integration` installs)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ASYNCAPI = REPO / "schemas" / "asyncapi.yaml"
VALIDATOR = REPO / "tools" / "asyncapi" / "validate.mjs"
NPM_CI = "npm ci --prefix tools/asyncapi"


def _validate(document_path: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node (20 or later) is needed to validate the AsyncAPI document: apt-get install nodejs")
    if not (VALIDATOR.parent / "node_modules" / "@asyncapi" / "parser").is_dir():
        pytest.fail(f"the AsyncAPI parser is not installed: run `{NPM_CI}`")
    return subprocess.run(
        [node, str(VALIDATOR), str(document_path)], cwd=REPO, capture_output=True, text=True, timeout=120
    )


def test_the_asyncapi_document_is_valid_by_the_official_parser() -> None:
    result = _validate(ASYNCAPI)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ", 0 errors, 0 warnings," in result.stdout, result.stdout
    assert "AsyncAPI 3.0.0" in result.stdout


def test_the_validator_fails_on_a_broken_document(tmp_path: Path) -> None:
    broken = tmp_path / "asyncapi.yaml"
    text = ASYNCAPI.read_text(encoding="utf-8")
    broken.write_text(text.replace("#/components/schemas/Location", "#/components/schemas/Nowhere"), "utf-8")
    result = _validate(broken)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "error invalid-ref: '#/components/schemas/Nowhere' does not exist" in result.stdout
