"""The import progress bar: redrawn in place on a terminal, a plain line per tenth in a log."""

from __future__ import annotations

import io

from shaobao.importers.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_in_a_log_the_bar_is_one_plain_line_per_tenth_without_carriage_returns() -> None:
    log = io.StringIO()
    bar = Progress("import csv", 20, log)
    for _ in range(20):
        bar.advance()
    bar.close()
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert len(lines) == 10
    assert lines[0] == "import csv [###...........................] 2/20  10%"
    assert lines[-1] == "import csv [##############################] 20/20 100%"


def test_on_a_terminal_the_bar_is_redrawn_in_place_and_ends_with_a_newline() -> None:
    tty = Terminal()
    bar = Progress("import mailbox", 3, tty)
    for _ in range(3):
        bar.advance()
    bar.close()
    out = tty.getvalue()
    assert out.startswith("\rimport mailbox [") and out.endswith("] 3/3 100%\n")
    assert "\n" not in out[:-1]
