"""A crashing worker leaves its consumer group on the way out, committing nothing.

A worker that stops on purpose (SIGTERM) closes its consumer, which tells the group
coordinator it is gone. A worker that exits at once because something escaped an agent's
boundary (`agents.boundary.crash`) or because the store is down with a batch held
(`agents.sink`) used to say nothing: the broker waited a whole session timeout (10 s) before
the restarted worker, which joins within 2 s, could be given its partitions back, and every
other worker of the group waited with it. Here the exit first closes the group coordinator of
every consumer this process started, with a short limit: the coordinator's last duty is the
LeaveGroup request. It commits nothing (Faust's consumer never auto-commits), so the
restarted worker still resumes from the last commit, past nothing it has not finished.

Best effort: if the broker does not answer within the limit the worker exits anyway and the
session timeout takes over, as before.
"""

from __future__ import annotations

import asyncio
import logging
import os
import weakref
from typing import Any, NoReturn

log = logging.getLogger(__name__)

LEAVE_TIMEOUT_S = 2.0

# The consumer threads this process started (`streams.rebalance`), each with its own loop.
_threads: weakref.WeakSet[Any] = weakref.WeakSet()


def remember(consumer_thread: Any) -> None:
    """Keep `consumer_thread` (a Faust consumer thread) for `leave_groups_now`."""
    _threads.add(consumer_thread)


def leave_groups_now(timeout_s: float = LEAVE_TIMEOUT_S) -> int:
    """Close every remembered consumer's group membership; returns how many left in time.

    Called from the main thread on the way to `os._exit`: it blocks, and nothing else of the
    worker runs meanwhile. Never called from a consumer thread's own loop (it would wait on
    itself), which is skipped."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    left = 0
    for thread in list(_threads):
        loop: asyncio.AbstractEventLoop | None = getattr(thread, "thread_loop", None)
        consumer = getattr(thread, "_consumer", None)
        if consumer is None or loop is None or loop is running or not loop.is_running():
            continue
        closing = asyncio.run_coroutine_threadsafe(consumer._coordinator.close(), loop)  # noqa: SLF001
        try:
            closing.result(timeout_s)
        except Exception as error:  # noqa: BLE001 - best effort: the session timeout remains
            closing.cancel()
            log.warning("could not leave the consumer group before exiting: %r", error)
        else:
            left += 1
    if left:
        log.info("left the consumer group before exiting (nothing committed)")
    return left


def leave_and_exit(code: int) -> NoReturn:
    """Leave the groups (`leave_groups_now`), flush the logs and exit with `code` at once:
    no shutdown of the app, so nothing more is committed."""
    leave_groups_now()
    logging.shutdown()
    os._exit(code)
