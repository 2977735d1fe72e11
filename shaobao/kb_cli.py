"""`shaobao kb`: the knowledge base (知识库) the desk searches.

    shaobao kb import FILE [--by NAME]   write a YAML (entries: [...]) or CSV file's valid entries:
                                         new ones created, changed ones a version more, equal
                                         ones left as they are; print what was read, imported,
                                         unchanged and refused (each with its reasons)

Exit code 0 when every entry was imported or unchanged, 1 when any was refused, 2 when the file
cannot be read as a knowledge base at all.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import yaml

from domain.jurisdiction import Jurisdiction
from domain.kb import KbFile, KbFileError, entries_from_csv, entries_from_document
from infra.postgres.kb_store import AsyncpgKbStore
from infra.postgres.store import AsyncpgTicketStore
from infra.reference import load_jurisdiction, load_yaml
from streams.settings import Settings

DEFAULT_BY = "import"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shaobao kb", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action", required=True)
    load = sub.add_parser("import", help="import a YAML or CSV file of entries")
    load.add_argument("file", type=Path)
    load.add_argument("--by", default=DEFAULT_BY, help="who the versions are recorded as changed by")
    return parser


def read_kb_file(path: Path, jurisdiction: Jurisdiction) -> KbFile:
    """The file's entries by its suffix (.yaml/.yml or .csv); raises `KbFileError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KbFileError(f"无法读取 {path}：{exc}") from exc
    if path.suffix.lower() == ".csv":
        return entries_from_csv(text, jurisdiction)
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise KbFileError(f"{path.name}：只能导入 .yaml、.yml 或 .csv 文件")
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise KbFileError(f"YAML 无法解析：{exc}") from exc
    return entries_from_document(data, jurisdiction)


async def import_file(found: KbFile, kb: AsyncpgKbStore, by: str) -> tuple[int, int]:
    """Write the valid entries; returns (imported, unchanged)."""
    imported = unchanged = 0
    for entry in found.entries:
        written, _ = await kb.upsert(entry, by, imported=True)
        unchanged += written == "unchanged"
        imported += written != "unchanged"
    return imported, unchanged


def summary(found: KbFile, imported: int, unchanged: int) -> list[str]:
    lines = [f"读取 {found.read} 条，导入 {imported} 条，未变 {unchanged} 条，拒绝 {len(found.refused)} 条"]
    for refused in found.refused:
        named = f" {refused.entry_id}" if refused.entry_id else ""
        lines.append(f"  拒绝 {refused.where}{named}：{'；'.join(refused.reasons)}")
    return lines


async def _run(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    try:
        found = read_kb_file(args.file, load_jurisdiction(settings.jurisdiction_file))
    except KbFileError as exc:
        out.write(f"错误：{exc}\n")
        return 2
    store = AsyncpgTicketStore(settings.database_url)
    try:
        imported, unchanged = await import_file(found, AsyncpgKbStore(store), args.by)
    finally:
        await store.close()
    out.writelines(f"{line}\n" for line in summary(found, imported, unchanged))
    return 1 if found.refused else 0


def run(argv: Sequence[str], settings: Settings, out: TextIO | None = None) -> int:
    """Entry point for `shaobao kb ...`; returns the process exit code."""
    args = _parser().parse_args(list(argv))
    return asyncio.run(_run(args, settings, out or sys.stdout))


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:], Settings.from_env()))
