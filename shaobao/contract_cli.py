"""`shaobao contract`: publish the wire contract generated from the pydantic models.

    shaobao contract write   regenerate schemas/json/*.schema.json, schemas/asyncapi.yaml and
                             schemas/openapi.json (the HTTP API for units and the control room)
    shaobao contract check   exit 1 naming every stale file (what `write` would change)

The generator (`schemas.contract`) is pure; this shell reads the jurisdiction for the unit
codes, and reads and writes the files.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from infra.reference import load_jurisdiction
from schemas import contract, openapi
from streams.settings import DEFAULT_JURISDICTION

SCHEMAS_DIR = Path(contract.__file__).resolve().parent
FIX_COMMAND = "shaobao contract write"


def expected_files(jurisdiction_file: Path = DEFAULT_JURISDICTION) -> dict[str, str]:
    """Every published file, path relative to `schemas/` → the exact text the models produce now."""
    jurisdiction = load_jurisdiction(jurisdiction_file)
    units = contract.Units(
        jurisdiction=f"{jurisdiction.code} ({jurisdiction.jurisdiction.name})",
        names=tuple((code, jurisdiction.unit_name(code)) for code in jurisdiction.unit_codes),
    )
    # The HTTP API's OpenAPI document is published beside the Kafka contract, checked the same way.
    return contract.published_files(units) | {openapi.OPENAPI_FILE: openapi.openapi_json()}


def stale_files(expected: dict[str, str], root: Path = SCHEMAS_DIR) -> list[str]:
    """Files that differ byte for byte from `expected`, are missing, or are left over.

    A left-over schema (a payload no longer registered) is stale too: an integrator would keep
    generating code from it.
    """
    differ = [
        name
        for name, text in expected.items()
        if not (root / name).is_file() or (root / name).read_bytes() != text.encode()
    ]
    present = (path.relative_to(root).as_posix() for path in (root / contract.JSON_DIR).glob("*.schema.json"))
    return sorted(differ + [name for name in present if name not in expected])


def write(expected: dict[str, str], out: TextIO, root: Path = SCHEMAS_DIR) -> int:
    """Bring the files on disk in line with `expected`; reports what changed."""
    changed = stale_files(expected, root)
    for name in changed:
        path = root / name
        if name in expected:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(expected[name].encode())
            out.write(f"wrote {root.name}/{name}\n")
        else:
            path.unlink()
            out.write(f"removed {root.name}/{name}\n")
    out.write(f"{len(expected)} files published, {len(changed)} changed\n")
    return 0


def check(expected: dict[str, str], out: TextIO, root: Path = SCHEMAS_DIR) -> int:
    """0 when the files on disk are what the models produce; 1 naming the stale ones otherwise."""
    stale = stale_files(expected, root)
    if not stale:
        out.write(f"{len(expected)} files up to date\n")
        return 0
    out.write("stale wire-contract files (they differ from what the models produce):\n")
    out.writelines(f"  {root.name}/{name}\n" for name in stale)
    out.write(f"to fix, run: {FIX_COMMAND}\n")
    return 1


def run(argv: Sequence[str], out: TextIO | None = None, root: Path = SCHEMAS_DIR) -> int:
    """Entry point for `shaobao contract ...`; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="shaobao contract", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("write", "check"))
    parser.add_argument(
        "--jurisdiction", type=Path, default=DEFAULT_JURISDICTION, help="whose unit codes to publish"
    )
    args = parser.parse_args(list(argv))
    expected = expected_files(args.jurisdiction)
    stream = out or sys.stdout
    return (write if args.action == "write" else check)(expected, stream, root)


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:]))
