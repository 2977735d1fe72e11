"""Leadership list agent: on a meeting day (逢"6"), compile the dispatch list once, keep it in
PostgreSQL and publish it as a `leadership_list` event on `alerts`.

A report, not a ticket's timer: one worker of the group does it (on_leader), and the record
for the day makes a second compilation (a new leader after a rebalance) a no-op.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Protocol

from agents.boundary import Task, guard_task
from agents.ports import StoreUnavailable, TimeSource
from domain.jurisdiction import Jurisdiction
from domain.reporting import MeetingList, due_for_compilation, meeting_list_alert
from streams.app import Streams

log = logging.getLogger(__name__)
CHECK_EVERY_S = 300.0


class MeetingLists(Protocol):
    """Where the lists are compiled from and kept (PostgreSQL: `infra.postgres.meeting_list`)."""

    async def compile_once(self, meeting: date, now: datetime) -> MeetingList | None:
        """Compile and keep the list unless one is kept for `meeting`; None if one was.
        Raises `StoreUnavailable`."""
        ...


def install(streams: Streams, lists: MeetingLists, jurisdiction: Jurisdiction, clock: TimeSource) -> Task:
    async def compile_meeting_list() -> None:
        now = clock.now()
        meeting = due_for_compilation(now, jurisdiction)
        if meeting is None:
            return
        try:
            listing = await lists.compile_once(meeting, now)
        except StoreUnavailable as exc:
            # PostgreSQL is down: the next check, a few minutes on, tries again.
            log.warning("meeting list for %s not compiled yet: %s", meeting, exc)
            return
        if listing is None:
            return
        alert = meeting_list_alert(listing, jurisdiction)
        await streams.alerts.send("leadership", alert)
        log.info("meeting list for %s compiled: %s", meeting, listing.counts)

    task = guard_task("compile_meeting_list", compile_meeting_list)
    streams.app.timer(CHECK_EVERY_S, on_leader=True, name="compile_meeting_list")(task)
    return task
