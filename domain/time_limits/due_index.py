"""The due-index of one worker: every unfired mark of every running clock of the tickets it
owns, ordered by when it falls due.

One heap entry per ticket (its next mark), the ticket's clocks kept as plain tuples, so a
million open tickets fit in a few hundred megabytes. The index is fed whole states (after
a rebuild from the ticket table) and events' clocks (as they happen); an update older
than what it holds is ignored, so the two sources may arrive in any order. `pop_due`
hands out each due mark once and remembers it fired until the ticket's next update;
after a restart the rebuilt index hands it out again, and the ticket agent, which
records fired marks on the clock, ignores it: a mark is recorded exactly once.
Marks already late when first seen (a backlog after an outage) can be set aside and
handed out at a steady pace behind the fresh ones, so a backlog never holds back a mark
falling due now. Pure: `now` is an argument.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.time_limits.decisions import flag_command_id
from schemas.limits import Clock, Mark

_MARKS = (Mark.AT_RISK, Mark.OVERDUE, Mark.SUPERVISE)
# key, limit version, (warn, due, escalate) as POSIX seconds, fired marks as bits (1, 2, 4).
_Entry = tuple[str, int, tuple[float, float, float], int]


@dataclass(frozen=True, order=True)
class DueMark:
    """One mark of one clock, due at `at`: what the timers send as a `FlagLimit` command."""

    at: datetime
    ticket_id: str
    clock: str
    mark: Mark
    limit_version: int

    @property
    def command_id(self) -> str:
        return flag_command_id(self.ticket_id, self.clock, self.mark, self.limit_version)


def _instant(mark: DueMark) -> datetime:
    return mark.at


def _entry(clock: Clock) -> _Entry:
    instants = (clock.warn_at.timestamp(), clock.due_at.timestamp(), clock.escalate_at.timestamp())
    fired = sum(1 << i for i, mark in enumerate(_MARKS) if mark in clock.fired)
    return (clock.key, clock.version, instants, fired)


def _next_at(entries: tuple[_Entry, ...]) -> float | None:
    pending = [at for _, _, instants, fired in entries for i, at in enumerate(instants) if not fired >> i & 1]
    return min(pending, default=None)


class DueIndex:
    """The marks still to fire of the tickets one worker owns (see the module doc)."""

    def __init__(self) -> None:
        self._tickets: dict[str, tuple[int, tuple[_Entry, ...]]] = {}
        self._heap: list[tuple[float, str, int]] = []
        self._late: deque[tuple[str, int]] = deque()  # set aside by pop_due, oldest first

    def __len__(self) -> int:
        """How many tickets have a clock running."""
        return len(self._tickets)

    @property
    def heap_size(self) -> int:
        return len(self._heap) + len(self._late)

    def update(self, ticket_id: str, version: int, clocks: Iterable[Clock]) -> bool:
        """Hold the ticket's clocks as of `version`; False (ignored) when the index has a newer one."""
        held = self._tickets.get(ticket_id)
        if held is not None and held[0] >= version:
            return False
        entries = tuple(_entry(c) for c in clocks)
        self._hold(ticket_id, version, entries)
        return True

    def clear(self) -> None:
        """Forget everything: the worker's partitions were taken away."""
        self._tickets.clear()
        self._heap.clear()
        self._late.clear()

    def next_due_at(self) -> datetime | None:
        """When the earliest mark falls due (possibly a stale entry: it only wakes the loop early)."""
        return datetime.fromtimestamp(self._heap[0][0], UTC) if self._heap else None

    def pop_due(
        self,
        now: datetime,
        limit: int | None = None,
        late_s: float | None = None,
        late_limit: int | None = None,
    ) -> list[DueMark]:
        """The marks due at `now`, each handed out once, oldest first (at most about `limit`).

        With `late_s`, a ticket whose next mark is more than `late_s` seconds late when it is
        first seen here is set aside, and at most about `late_limit` marks of those set aside
        (all, when None) are handed out a call, after the fresh ones: a backlog drains at
        that pace.
        """
        cutoff = now.timestamp()
        if late_s is not None:
            while self._heap and self._heap[0][0] <= cutoff - late_s:
                _, ticket_id, version = heapq.heappop(self._heap)
                self._late.append((ticket_id, version))
        due = self._take(self._from_heap(cutoff), cutoff, limit)
        if self._late:
            due += self._take(self._from_late(), cutoff, late_limit)
        # Keyed on the instant alone: comparing whole dataclasses cost half the loop's time.
        due.sort(key=_instant)
        return due

    def _from_heap(self, cutoff: float) -> Iterator[tuple[str, int]]:
        while self._heap and self._heap[0][0] <= cutoff:
            _, ticket_id, version = heapq.heappop(self._heap)
            yield ticket_id, version

    def _from_late(self) -> Iterator[tuple[str, int]]:
        while self._late:
            yield self._late.popleft()

    def _take(self, entries: Iterator[tuple[str, int]], cutoff: float, limit: int | None) -> list[DueMark]:
        """Fire the entries' due marks until about `limit`; an entry not taken stays where it is."""
        due: list[DueMark] = []
        for ticket_id, version in entries:
            held = self._tickets.get(ticket_id)
            if held is not None and held[0] == version:  # else superseded: the update pushed its own
                due.extend(self._fire(ticket_id, version, held[1], cutoff))
            if limit is not None and len(due) >= limit:
                break
        return due

    def _fire(
        self, ticket_id: str, version: int, entries: tuple[_Entry, ...], cutoff: float
    ) -> list[DueMark]:
        fired_now: list[DueMark] = []
        updated: list[_Entry] = []
        for key, limit_version, instants, fired in entries:
            for i, at in enumerate(instants):
                if at <= cutoff and not fired >> i & 1:
                    fired |= 1 << i
                    when = datetime.fromtimestamp(at, UTC)
                    fired_now.append(DueMark(when, ticket_id, key, _MARKS[i], limit_version))
            updated.append((key, limit_version, instants, fired))
        self._hold(ticket_id, version, tuple(updated))
        return fired_now

    def _hold(self, ticket_id: str, version: int, entries: tuple[_Entry, ...]) -> None:
        next_at = _next_at(entries)
        if next_at is None:
            # Nothing left to fire. An older update could still revive it (a replay of events
            # behind the table); its marks would then reach the ticket agent, which ignores
            # marks of clocks no longer running, so memory is not spent on closed tickets.
            self._tickets.pop(ticket_id, None)
            return
        self._tickets[ticket_id] = (version, entries)
        heapq.heappush(self._heap, (next_at, ticket_id, version))
