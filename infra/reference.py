"""Reading the jurisdiction (and its lexicon) from files: the only place that touches them."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

from domain.jurisdiction import Jurisdiction, parse_jurisdiction


def load_jurisdiction(path: Path) -> Jurisdiction:
    """Parse and validate a jurisdiction file; its version is a digest of the bytes."""
    raw = path.read_bytes()
    version = hashlib.sha256(raw).hexdigest()[:12]
    return parse_jurisdiction(yaml.safe_load(raw), version=version)


def lexicon_path_for(jurisdiction_file: Path) -> Path:
    """`sample-county.yaml` → `sample-county.lexicon.yaml` beside it."""
    return jurisdiction_file.with_name(jurisdiction_file.stem + ".lexicon.yaml")
