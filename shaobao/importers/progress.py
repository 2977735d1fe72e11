"""A small progress bar on stderr: redrawn in place on a terminal, a line per tenth in a log."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30
REDRAW_EVERY_S = 0.1


class Progress:
    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label, self.total, self.done = label, total, 0
        self._stream = stream if stream is not None else sys.stderr
        self._live = self._stream.isatty()
        self._drawn_at = 0.0
        self._tenths_logged = 0

    def advance(self, count: int = 1) -> None:
        self.done += count
        if self._live:
            if time.monotonic() - self._drawn_at >= REDRAW_EVERY_S or self.done >= self.total:
                self._draw()
        elif self.total and self.done * 10 // self.total > self._tenths_logged:
            # A log file gets no carriage returns: one line at each 10 %.
            self._tenths_logged = self.done * 10 // self.total
            self._stream.write(self._line() + "\n")

    def close(self) -> None:
        if self._live:
            self._draw()
            self._stream.write("\n")
        self._stream.flush()

    def _draw(self) -> None:
        self._drawn_at = time.monotonic()
        self._stream.write("\r" + self._line())
        self._stream.flush()

    def _line(self) -> str:
        share = self.done / self.total if self.total else 1.0
        filled = int(share * WIDTH)
        bar = "#" * filled + "." * (WIDTH - filled)
        return f"{self.label} [{bar}] {self.done}/{self.total} {share:4.0%}"
