"""Reading a legacy CSV export: its encoding, its header, and each row with its line number
and the text it was written as (a rejected row is kept as written).

A file of a million rows is read twice, a chunk at a time, and never held whole: `scan_csv`
checks the encoding and counts the rows (nothing is sent from a file that is unusable as a
whole), then `iter_rows` yields them one by one while the import sends them."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
CHUNK_BYTES = 1 << 20
# The encoding each label is decoded with: GBK files are read as GB18030, its superset.
CODECS = {"utf-8-sig": "utf-8-sig", "utf-8": "utf-8", "gbk": "gb18030"}
Opener = Callable[[], BinaryIO]


@dataclass(frozen=True)
class CsvRow:
    line: int
    cells: list[str]
    raw: str


@dataclass(frozen=True)
class CsvScan:
    """What the first pass found: the encoding, the header, how many rows and blank lines."""

    encoding: str
    header: list[str]
    header_raw: str
    rows: int
    blank_lines: int


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
    encoding = _encoding_of(lambda: io.BytesIO(data))
    return data.decode(CODECS[encoding]), encoding


def file_encoding(path: Path) -> str:
    """The encoding label of the file (as `decode_csv` names it), read a chunk at a time."""
    return _encoding_of(lambda: path.open("rb"))


def _encoding_of(open_: Opener) -> str:
    """The label for the bytes `open_()` gives: raises ValueError if none decodes them all."""
    with open_() as data:
        head = data.read(len(UTF8_BOM))
    if head.startswith(UTF16_BOMS):
        raise ValueError("UTF-16 is not supported: save the file as CSV (UTF-8 or GBK)")
    if head.startswith(UTF8_BOM):
        # Declared UTF-8: no GBK guess (`UnicodeDecodeError` is a ValueError).
        _first_error(open_, "utf-8-sig", strict=True)
        return "utf-8-sig"
    if _first_error(open_, "utf-8") is None:
        return "utf-8"
    position = _first_error(open_, "gb18030")
    if position is not None:
        raise ValueError(f"neither UTF-8 nor GBK (byte {position})")
    return "gbk"


def _first_error(open_: Opener, codec: str, strict: bool = False) -> int | None:
    """The offset of the first byte `codec` cannot decode, or None when it decodes them all
    (`strict`: raise the `UnicodeDecodeError` instead)."""
    decoder = codecs.getincrementaldecoder(codec)()
    offset = 0  # of the chunk in the file
    with open_() as data:
        while True:
            chunk = data.read(CHUNK_BYTES)
            pending = decoder.getstate()[0]  # a character's first bytes, from the chunk before
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                if strict:
                    raise
                return offset - len(pending) + exc.start
            if not chunk:
                return None
            offset += len(chunk)


def _text(path: Path, encoding: str) -> io.TextIOWrapper:
    """The file as text, line endings as written (a quoted cell may hold a CR LF)."""
    return open(path, encoding=CODECS[encoding], newline="")  # noqa: SIM115 - the caller closes it


class _LineTap:
    """The physical lines the csv reader consumed for its last row (quoted cells span lines)."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self.taken: list[str] = []
        self.count = 0
        self.recording = True  # off: lines are only counted

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        if self.recording:
            self.taken.append(line)
        self.count += 1
        return line

    def take(self) -> tuple[int, str]:
        """The first line number and text of what was consumed since the last call."""
        first = self.count - len(self.taken) + 1
        raw, self.taken = "".join(self.taken), []
        return first, raw


def _blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def scan_csv(path: Path) -> CsvScan:
    """The first pass over the file: raises ValueError for an undecodable file or one without
    a header; counts the data rows (blank lines apart) without keeping them."""
    encoding = file_encoding(path)
    with _text(path, encoding) as text:
        tap = _LineTap(iter(text))
        reader = csv.reader(tap)
        header = next(reader, None)
        if header is None:
            raise ValueError("the file is empty: a header row is required")
        _, header_raw = tap.take()
        tap.recording = False
        rows = blank = 0
        for cells in reader:
            if _blank(cells):
                blank += 1
            else:
                rows += 1
    return CsvScan(encoding=encoding, header=header, header_raw=header_raw, rows=rows, blank_lines=blank)


def iter_rows(path: Path, encoding: str) -> Iterator[CsvRow]:
    """Each data row after the header, blank ones skipped, with its line number and text."""
    with _text(path, encoding) as text:
        tap = _LineTap(iter(text))
        reader = csv.reader(tap)
        if next(reader, None) is None:
            return
        tap.take()
        for cells in reader:
            line, raw = tap.take()
            if not _blank(cells):
                yield CsvRow(line=line, cells=cells, raw=raw)


def read_csv(path: Path) -> CsvFile:
    """The whole file in memory (small files, tests); raises ValueError as `scan_csv` does."""
    scan = scan_csv(path)
    rows = list(iter_rows(path, scan.encoding))
    return CsvFile(scan.encoding, scan.header, scan.header_raw, rows, scan.blank_lines)
