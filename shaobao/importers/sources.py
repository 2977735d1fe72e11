"""Files → import items: each `.eml` file, each CSV row, as an appeal or a refusal to report."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from domain.legacy_csv import Header, RowError, appeal_from_row, read_header, row_key
from domain.mailbox import MailError, appeal_from_mail
from schemas.base import escape_refused
from schemas.rejections import SourcePosition
from shaobao.importers.csv_file import CsvFile, read_csv
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


def csv_items(path: Path, timezone: str, now: datetime) -> tuple[CsvFile, Header, list[ImportItem]]:
    """Every data row of the file as an item; raises ValueError when the file as a whole is
    unusable (not UTF-8 or GBK, no header, required columns missing): nothing is sent then."""
    table = read_csv(path)
    header = read_header(table.header)
    topic = f"import:csv:{_named(path.resolve())}"
    items: list[ImportItem] = []
    for row in table.rows:
        where, source = f"line {row.line}", SourcePosition(topic=topic, partition=0, offset=row.line)
        outcome = appeal_from_row(row.cells, header, row.line, timezone, now)
        if isinstance(outcome, RowError):
            original = (table.header_raw + row.raw).encode()  # the header makes the row readable alone
            rejection_id = f"import:csv:{_named(path.name)}:{row.line}:{_digest(row.raw.encode())}"
            key = row_key(row.cells, header)
            items.append(Refused(where, outcome.reason, outcome.message, original, source, rejection_id, key))
        else:
            items.append(ReadAppeal(where, outcome))
    return table, header, items
