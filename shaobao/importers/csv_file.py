"""Reading a legacy CSV export: its encoding, its header, and each row with its line number
and the text it was written as (a rejected row is kept as written)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class CsvRow:
    line: int
    cells: list[str]
    raw: str


@dataclass(frozen=True)
class CsvFile:
    encoding: str
    header: list[str]
    header_raw: str
    rows: list[CsvRow]
    blank_lines: int


def decode_csv(data: bytes) -> tuple[str, str]:
    """The text and the encoding found: UTF-8 (with or without BOM), else GBK (as GB18030).

    Excel on Chinese Windows saves "CSV" in GBK and "CSV UTF-8" with a BOM; both are common.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValueError("UTF-16 is not supported: save the file as CSV (UTF-8 or GBK)")
    if data.startswith(UTF8_BOM):
        return data[len(UTF8_BOM) :].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gbk"
    except UnicodeDecodeError as exc:
        raise ValueError(f"neither UTF-8 nor GBK (byte {exc.start})") from exc


class _LineTap:
    """The physical lines the csv reader consumed for its last row (quoted cells span lines)."""

    def __init__(self, text: str) -> None:
        self._lines = iter(io.StringIO(text, newline=""))
        self.taken: list[str] = []
        self.count = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.taken.append(line)
        self.count += 1
        return line

    def take(self) -> tuple[int, str]:
        """The first line number and text of what was consumed since the last call."""
        first = self.count - len(self.taken) + 1
        raw, self.taken = "".join(self.taken), []
        return first, raw


def read_csv(path: Path) -> CsvFile:
    """The whole file; raises ValueError for an undecodable file or one without a header."""
    text, encoding = decode_csv(path.read_bytes())
    tap = _LineTap(text)
    reader = csv.reader(tap)
    header = next(reader, None)
    if header is None:
        raise ValueError("the file is empty: a header row is required")
    _, header_raw = tap.take()
    rows: list[CsvRow] = []
    blank = 0
    for cells in reader:
        line, raw = tap.take()
        if not any(cell.strip() for cell in cells):
            blank += 1
            continue
        rows.append(CsvRow(line=line, cells=cells, raw=raw))
    return CsvFile(encoding=encoding, header=header, header_raw=header_raw, rows=rows, blank_lines=blank)
