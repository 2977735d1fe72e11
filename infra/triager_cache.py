"""A trained triager kept on disk, so a starting worker loads it in 0.1 s instead of training it.

Training the triager on the shipped labelled appeals takes seconds of CPU (about 6 s for
3,955 appeals on a 2-core machine), which every worker start, restart and rebalance-driven
redeploy would pay again. The cache key is a digest of everything the trained triager
depends on: both reference files (the version), every labelled example, the triager's own
source code and the Python version. A different key is a different file; nothing is ever
reused across a change.

The files are Python pickles written by this module into the project's own cache directory
(`SHAOBAO_CACHE_DIR`, default `.cache/` of the checkout): load them only from a directory
nobody else can write to. A file that cannot be read or unpickled is trained again and
replaced; a directory that cannot be written is only logged. Writes are atomic (a temporary
file renamed), so workers starting together never read half a file.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import domain.triage
from domain.triage import LabelledText, Triager

log = logging.getLogger(__name__)

TRIAGE_SOURCE = Path(domain.triage.__file__).resolve().parent


def _code_digest() -> str:
    digest = hashlib.sha256(sys.version.encode())
    for path in sorted(TRIAGE_SOURCE.rglob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(version: str, examples: Sequence[LabelledText]) -> str:
    """A digest of the reference version, the examples, the triager's code and Python."""
    digest = hashlib.sha256(version.encode())
    digest.update(_code_digest().encode())
    for example in examples:
        for part in (example.text, example.category, example.appeal_type, example.source, example.urgency):
            digest.update((part or "").encode())
            digest.update(b"\x1f")
        digest.update(b"\x1e")
    return digest.hexdigest()[:24]


class TriagerCache:
    """Trained triagers by key under one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def under(cls, cache_dir: Path) -> TriagerCache:
        """The cache every process of one checkout shares: `triager/` in its cache directory
        (`Settings.cache_dir`, `SHAOBAO_CACHE_DIR`)."""
        return cls(cache_dir / "triager")

    def path_for(self, key: str) -> Path:
        return self.directory / f"triager-{key}.pickle"

    def get_or_train(
        self, version: str, examples: Sequence[LabelledText], train: Callable[[], Triager]
    ) -> Triager:
        path = self.path_for(cache_key(version, examples))
        try:
            with path.open("rb") as handle:
                found = pickle.load(handle)  # noqa: S301 - our own file, in our own cache directory
            if isinstance(found, Triager):
                return found
            log.warning("%s is not a triager; training again", path)
        except FileNotFoundError:
            pass
        except Exception as error:  # noqa: BLE001 - a damaged cache file is trained again
            log.warning("cannot read %s (%s); training again", path, error)
        triager = train()
        self._save(path, triager)
        return triager

    def _save(self, path: Path, triager: Triager) -> None:
        temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with temporary.open("wb") as handle:
                pickle.dump(triager, handle, protocol=pickle.HIGHEST_PROTOCOL)
            temporary.replace(path)
        except OSError as error:
            log.warning("cannot keep the trained triager in %s: %s", path.parent, error)
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
