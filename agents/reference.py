"""Hot reload: follow `config.reference` and swap the reference the intake agent routes by.

Every worker reads the whole compacted topic itself (no consumer group: each
needs every record), from the start, so a worker that starts up takes up the
latest published jurisdiction before its first appeal of the day, and a
running one takes up a new one within a second. A record that cannot be put
in force is refused with a critical alert; the reference in force stays.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from agents.boundary import Task
from agents.ports import Router, TimeSource
from domain.jurisdiction import Jurisdiction
from domain.reference_alerts import reference_applied_alert, reference_rejected_alert
from streams.app import Streams

log = logging.getLogger(__name__)


class Reference(Protocol):
    """A jurisdiction, the router built from it and the version both carry."""

    @property
    def jurisdiction(self) -> Jurisdiction: ...

    @property
    def router(self) -> Router: ...

    @property
    def version(self) -> str: ...


class ReferenceHolder:
    """The reference in force, replaced whole: a decision never sees half of an old and a new one.

    It is the `ReferenceData` the intake and orders agents were given: they read
    `jurisdiction` and `router` per appeal, so a swap takes effect on the next one.
    """

    def __init__(self, initial: Reference) -> None:
        self._current = initial

    @property
    def current(self) -> Reference:
        return self._current

    @property
    def jurisdiction(self) -> Jurisdiction:
        return self._current.jurisdiction

    @property
    def router(self) -> Router:
        return self._current.router

    def swap(self, new: Reference) -> None:
        self._current = new


@dataclass(frozen=True)
class FeedRecord:
    """One `config.reference` record and where it was (`topic:partition:offset`)."""

    position: str
    value: bytes


class ReferenceFeed(Protocol):
    def records(self) -> AsyncIterator[FeedRecord]:
        """Every record from the start of the topic, then new ones as they come, forever."""
        ...


# Builds a reference from a record's value; raises ValueError saying what is wrong.
Builder = Callable[[bytes], Reference]


def check_units(new: Reference, known_units: Sequence[str]) -> None:
    """A reference may not route to units this deployment has no topics for (they need a restart)."""
    missing = sorted(set(new.jurisdiction.unit_codes) - set(known_units))
    if missing:
        raise ValueError(
            f"units {missing} have no topics in this deployment: "
            "create them (`shaobao topics`) and restart the workers to add units"
        )


def install(
    streams: Streams, holder: ReferenceHolder, feed: ReferenceFeed, build: Builder, clock: TimeSource
) -> Task:
    async def follow_reference() -> None:
        async for record in feed.records():
            kept = holder.current.version
            try:
                # Building trains the triager's model: off the event loop, so agents keep going.
                new = await asyncio.to_thread(build, record.value)
                check_units(new, streams.unit_codes)
            except Exception as error:  # noqa: BLE001 - any record that cannot be put in force is refused
                log.error("reference at %s refused, keeping %s: %s", record.position, kept, error)
                alert = reference_rejected_alert(record.position, str(error), kept, clock.now())
            else:
                holder.swap(new)
                log.info("reference %s in force (was %s)", new.version, kept)
                alert = reference_applied_alert(
                    record.position, new.jurisdiction.code, new.version, kept, clock.now()
                )
            await streams.alerts.send(alert.alert_id, alert)

    streams.app.task(follow_reference)
    return follow_reference
