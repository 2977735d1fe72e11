"""`shaobao import`: the messy channels onto `appeals.intake`, with nothing dropped.

    shaobao import mailbox DIR|FILE...   the mayor's mailbox (市长信箱), one `.eml` file per letter
    shaobao import csv FILE              legacy tickets exported from an old hotline system

Each appeal is produced to `appeals.intake` keyed `channel:source_id` (acks=all), so running
an import twice makes no second ticket: the intake agent records a duplicate. A row or file
that cannot become an appeal is reported here with its reason code and its line or file AND
produced to `appeals.rejected` (reason schema_violation, the row or file as read, an id
`import:<kind>:<file>:…`), where `shaobao rejected list` shows it. A progress bar goes to
stderr (redrawn on a terminal, a line per tenth otherwise); the summary to stdout: accepted,
duplicates within the import, rejected by reason. Exit status: 0 all sent, 1 some rejected
(reported), 2 nothing sent (unreadable file, missing columns, no files), 3 Kafka failed midway.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from domain.intake import legacy_csv
from infra.reference import load_jurisdiction
from shaobao.importers.kafka_sink import ImportAborted, ImportItem, ImportSummary, send_items
from shaobao.importers.progress import Progress
from shaobao.importers.sources import csv_source, mailbox_items
from streams.names import TopicNames
from streams.settings import Settings

__all__ = ["run_import"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shaobao import",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="source", required=True)
    mailbox = sub.add_parser("mailbox", help="import .eml files (a directory is searched recursively)")
    mailbox.add_argument("paths", nargs="+", type=Path, metavar="DIR|FILE")
    table = sub.add_parser(
        "csv",
        help="import a legacy CSV export (UTF-8, UTF-8 with BOM, or GBK)",
        description=legacy_csv.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    table.add_argument("file", type=Path)
    return parser


def _items(
    args: argparse.Namespace, timezone: str, now: datetime, out: TextIO
) -> tuple[int, Iterable[ImportItem]]:
    """How many items, and the items: the mailbox's read now, the CSV's rows as they are sent."""
    if args.source == "mailbox":
        items = mailbox_items(args.paths, timezone, now)
        return len(items), items
    scan, header, rows = csv_source(args.file, timezone, now)
    ignored = f"; columns ignored: {', '.join(header.ignored)}" if header.ignored else ""
    blank = f"; {scan.blank_lines} blank lines skipped" if scan.blank_lines else ""
    print(f"{args.file}: {scan.encoding}, {scan.rows} rows{ignored}{blank}", file=out)
    return scan.rows, rows


def run_import(argv: list[str], out: TextIO | None = None) -> int:
    """Entry point for `shaobao import ...`; returns the process exit code."""
    args = build_parser().parse_args(argv)
    out = out or sys.stdout
    # The operator reads a summary; aiokafka's subscription chatter would bury it.
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    settings = Settings.from_env()
    names = TopicNames(settings.topic_prefix)
    now = datetime.now(UTC)
    try:
        timezone = load_jurisdiction(settings.jurisdiction_file).timezone
        count, items = _items(args, timezone, now, out)
    except (OSError, ValueError) as exc:
        # The file as a whole is unusable: say why and send nothing, the operator fixes it.
        print(f"shaobao import {args.source}: {exc}", file=sys.stderr)
        return 2
    if not count:
        print(f"shaobao import {args.source}: nothing to import", file=sys.stderr)
        return 2
    progress = Progress(f"import {args.source}", count)
    try:
        summary = asyncio.run(send_items(settings.kafka, names, items, progress, now))
    except ImportAborted as exc:
        progress.close()
        print_summary(args.source, exc.summary, names, out)
        print(f"shaobao import {args.source}: {exc}; running it again is safe", file=sys.stderr)
        return 3
    progress.close()
    print_summary(args.source, summary, names, out)
    return 1 if summary.rejected_count else 0


def print_summary(source: str, summary: ImportSummary, names: TopicNames, out: TextIO) -> None:
    """Accepted, duplicates, rejected by reason with the line or file of each, then notes."""
    print(
        f"{source}: read {summary.read}, accepted {summary.accepted} (sent to {names.intake}), "
        f"duplicates {len(summary.repeated)}, rejected {summary.rejected_count}",
        file=out,
    )
    for reason, found in sorted(summary.rejected.items()):
        print(f"  rejected {reason} ({len(found)}):", file=out)
        for where, message in found:
            print(f"    {where}: {message}", file=out)
    if summary.rejected:
        print(f"  (kept on {names.rejected}: shaobao rejected list --reason schema_violation)", file=out)
    if summary.repeated:
        print(f"  duplicates ({len(summary.repeated)}), sent so the ticket records them:", file=out)
        for where, key in summary.repeated:
            print(f"    {where}: {key}", file=out)
    for where, note in summary.notes:
        print(f"  note {where}: {note}", file=out)
