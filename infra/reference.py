"""Reading the jurisdiction (and its lexicon) from files and from `config.reference` records.

The only place that touches the files. A published reference is rebuilt here
into a jurisdiction and a triager; anything wrong with it raises
`ReferenceInvalid` with a message a person can act on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml
from pydantic import ValidationError

from domain.jurisdiction import Jurisdiction, parse_jurisdiction
from domain.triage import LabelledText, Triager, parse_lexicon
from infra.examples import DEFAULT_EXAMPLE_FILES, read_examples
from infra.triager_cache import TriagerCache
from schemas.reference import ReferencePublished
from streams.settings import Settings


class ReferenceInvalid(ValueError):
    """A jurisdiction or lexicon that cannot be put in force; the message says why."""


@dataclass(frozen=True)
class BuiltReference:
    """The jurisdiction in force, the router built from it, and the version both carry."""

    jurisdiction: Jurisdiction
    router: Triager
    version: str


def load_jurisdiction(path: Path) -> Jurisdiction:
    """Parse and validate a jurisdiction file; its version is a digest of the bytes."""
    raw = path.read_bytes()
    version = hashlib.sha256(raw).hexdigest()[:12]
    return parse_jurisdiction(load_yaml(raw), version=version)


def lexicon_path_for(jurisdiction_file: Path) -> Path:
    """`sample-county.yaml` → `sample-county.lexicon.yaml` beside it."""
    return jurisdiction_file.with_name(jurisdiction_file.stem + ".lexicon.yaml")


def reference_version(jurisdiction_yaml: str, lexicon_yaml: str) -> str:
    """A digest of both files: a change to either is a new version."""
    digest = hashlib.sha256(jurisdiction_yaml.encode())
    digest.update(b"\0")
    digest.update(lexicon_yaml.encode())
    return digest.hexdigest()[:12]


def read_reference(jurisdiction_file: Path, lexicon_file: Path | None, now: datetime) -> ReferencePublished:
    """Both files as a publishable record (not yet validated beyond their jurisdiction code)."""
    jurisdiction_yaml = jurisdiction_file.read_text(encoding="utf-8")
    lexicon_yaml = (lexicon_file or lexicon_path_for(jurisdiction_file)).read_text(encoding="utf-8")
    data = _yaml(jurisdiction_yaml, "jurisdiction")
    info = data.get("jurisdiction") if isinstance(data, dict) else None
    code = info.get("code") if isinstance(info, dict) else None
    if not isinstance(code, str) or not code:
        raise ReferenceInvalid("the jurisdiction file has no `jurisdiction.code`")
    return ReferencePublished(
        version=reference_version(jurisdiction_yaml, lexicon_yaml),
        jurisdiction_code=code,
        jurisdiction_yaml=jurisdiction_yaml,
        lexicon_yaml=lexicon_yaml,
        published_at=now,
    )


def build_reference(
    published: ReferencePublished, examples: Sequence[LabelledText] = (), cache: TriagerCache | None = None
) -> BuiltReference:
    """Validate both files against each other and build the triager (trained, or from `cache`);
    raises `ReferenceInvalid`."""
    try:
        jurisdiction = parse_jurisdiction(
            _yaml(published.jurisdiction_yaml, "jurisdiction"), version=published.version
        )
        lexicon = parse_lexicon(_yaml(published.lexicon_yaml, "lexicon"))
        if cache is None:
            router = Triager(jurisdiction, lexicon, examples=examples)
        else:
            router = cache.get_or_train(
                published.version, examples, lambda: Triager(jurisdiction, lexicon, examples=examples)
            )
    except ValidationError as error:
        raise ReferenceInvalid(f"invalid jurisdiction: {error}") from error
    except ValueError as error:  # LexiconError, a lexicon naming what the jurisdiction lacks
        raise ReferenceInvalid(str(error)) from error
    if jurisdiction.code != published.jurisdiction_code:
        raise ReferenceInvalid(
            f"published as {published.jurisdiction_code!r} but the file says {jurisdiction.code!r}"
        )
    return BuiltReference(jurisdiction=jurisdiction, router=router, version=published.version)


def load_reference_files(
    jurisdiction_file: Path, cache_dir: Path, now: datetime, examples: Sequence[LabelledText] | None = None
) -> BuiltReference:
    """The jurisdiction file and its lexicon built, the triager learning from the shipped labelled
    appeals (or `examples`), kept in `cache_dir/triager`: every process that loads the same files
    (the worker, the web desk) shares one trained triager."""
    return build_reference(
        read_reference(jurisdiction_file, None, now),
        read_examples(DEFAULT_EXAMPLE_FILES) if examples is None else examples,
        TriagerCache.under(cache_dir),
    )


def load_configured(
    settings: Settings, now: datetime, examples: Sequence[LabelledText] | None = None
) -> BuiltReference:
    """The reference the settings name (`load_reference_files`): what the worker and the web's
    desk both load, so that both hold the same triager."""
    return load_reference_files(settings.jurisdiction_file, settings.cache_dir, now, examples)


def decode_published(value: bytes) -> ReferencePublished:
    """A `config.reference` record's value, read but not built (its version says whether it
    is the one in force); raises `ReferenceInvalid`."""
    try:
        return ReferencePublished.model_validate_json(value)
    except ValidationError as error:
        raise ReferenceInvalid(f"not a ReferencePublished record: {error}") from error


def decode_reference(
    value: bytes, examples: Sequence[LabelledText] = (), cache: TriagerCache | None = None
) -> BuiltReference:
    """A `config.reference` record's value, built; raises `ReferenceInvalid`."""
    return build_reference(decode_published(value), examples, cache)


def load_yaml(text: str | bytes) -> object:
    """YAML read safely, by libyaml when PyYAML was built with it (the lexicon: 0.37 s → 0.04 s)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 (safe loaders only)


def _yaml(text: str, what: str) -> object:
    try:
        return load_yaml(text)
    except yaml.YAMLError as error:
        raise ReferenceInvalid(f"the {what} file is not valid YAML: {error}") from error
