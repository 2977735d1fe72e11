"""`make run`'s supervisor: a process that stops on its own is started again, with a
doubling backoff, until it has stopped too often within the window."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from shaobao.supervisor import RESTART_WINDOW_S, RESTARTS, Child


def child(args: list[str]) -> Child:
    done = subprocess.Popen([sys.executable, "-c", "pass"])  # noqa: S603 - a harmless placeholder
    done.wait()
    return Child(args, Path("/dev/null"), {}, done)


def test_the_backoff_doubles_from_one_second_and_gives_up_after_five_restarts_in_the_window() -> None:
    worker = child(["worker", "--loglevel", "info"])
    waits = []
    for n in range(RESTARTS + 1):
        waits.append(worker.backoff_s(100.0 + n))
        worker.restarts.append(100.0 + n)
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, None]


def test_restarts_older_than_the_window_are_forgotten() -> None:
    units = child(["units", "simulate"])
    units.restarts = [0.0] * RESTARTS
    assert units.backoff_s(RESTART_WINDOW_S - 1) is None
    assert units.backoff_s(RESTART_WINDOW_S) == 1.0 and units.restarts == []


def test_a_child_is_named_by_its_command_without_options() -> None:
    assert child(["simulate", "--rate", "2"]).name == "simulate"
    assert child(["units", "simulate"]).name == "units simulate"
