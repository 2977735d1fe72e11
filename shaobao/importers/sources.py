"""Files → import items: each `.eml` file, each CSV row, as an appeal or a refusal to report."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from domain.intake import Header, MailError, RowError, appeal_from_mail, appeal_from_row, read_header, row_key
from schemas.base import escape_refused
from schemas.rejections import SourcePosition
from shaobao.importers.csv_file import CsvFile, CsvRow, CsvScan, iter_rows, read_csv, scan_csv
from shaobao.importers.eml import parse_mail
from shaobao.importers.kafka_sink import ImportItem, ReadAppeal, Refused


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:8]


def _named(name: object) -> str:
    """A file's name for a rejection's id and source: a name need not be UTF-8 (Python keeps
    its bytes as lone surrogates) nor free of control characters, which the contract refuses."""
    return escape_refused(str(name))


def mail_files(paths: Iterable[Path]) -> list[Path]:
    """The files named, and the `*.eml` files of the directories named, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".eml"))
        else:
            found.append(path)
    return found


def mail_item(path: Path, timezone: str, now: datetime) -> ImportItem:
    source = SourcePosition(topic=f"import:mailbox:{_named(path.resolve())}", partition=0, offset=0)
    try:
        original = path.read_bytes()
        mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError as exc:
        # A missing or unreadable file is named in the summary and kept on the topic by name.
        rejection_id = f"import:mailbox:{_named(path.name)}:unreadable"
        why = f"cannot read the file: {exc.strerror}"
        return Refused(str(path), "unreadable_file", why, b"", source, rejection_id, None)
    outcome = appeal_from_mail(parse_mail(original, mtime), timezone, now)
    if isinstance(outcome, MailError):
        rejection_id = f"import:mailbox:{_named(path.name)}:{_digest(original)}"
        key = f"mailbox:{outcome.source_id}"
        return Refused(str(path), outcome.reason, outcome.message, original, source, rejection_id, key)
    return ReadAppeal(str(path), outcome.appeal, outcome.notes)


def mailbox_items(paths: Iterable[Path], timezone: str, now: datetime) -> list[ImportItem]:
    return [mail_item(path, timezone, now) for path in mail_files(paths)]


@dataclass(frozen=True)
class CsvRows:
    """What every row of one file shares: the file, its header, the import's zone and time."""

    path: Path
    header: Header
    header_raw: str
    timezone: str
    now: datetime

    def item(self, row: CsvRow) -> ImportItem:
        """One data row as an appeal, or as a refusal keeping the row as written."""
        outcome = appeal_from_row(row.cells, self.header, row.line, self.timezone, self.now)
        if not isinstance(outcome, RowError):
            return ReadAppeal(f"line {row.line}", outcome)
        source = SourcePosition(
            topic=f"import:csv:{_named(self.path.resolve())}", partition=0, offset=row.line
        )
        original = (self.header_raw + row.raw).encode()  # the header makes the row readable alone
        rejection_id = f"import:csv:{_named(self.path.name)}:{row.line}:{_digest(row.raw.encode())}"
        key = row_key(row.cells, self.header)
        return Refused(
            f"line {row.line}", outcome.reason, outcome.message, original, source, rejection_id, key
        )


def csv_items(path: Path, timezone: str, now: datetime) -> tuple[CsvFile, Header, list[ImportItem]]:
    """Every data row of the file as an item, in memory (small files, tests); raises
    ValueError when the file as a whole is unusable, as `csv_source` does."""
    table = read_csv(path)
    rows = CsvRows(path, read_header(table.header), table.header_raw, timezone, now)
    return table, rows.header, [rows.item(row) for row in table.rows]


def csv_source(path: Path, timezone: str, now: datetime) -> tuple[CsvScan, Header, Iterator[ImportItem]]:
    """The file's scan and its rows as items, read lazily: a million rows are never all held.

    The whole file is decoded and its header mapped first: raises ValueError when it is
    unusable as a whole (not UTF-8 or GBK, no header, required columns missing), and nothing
    is sent then."""
    scan = scan_csv(path)
    rows = CsvRows(path, read_header(scan.header), scan.header_raw, timezone, now)
    return scan, rows.header, (rows.item(row) for row in iter_rows(path, scan.encoding))
