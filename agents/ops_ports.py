"""The roles the ops monitor depends on; implementations are in `infra` (wired by bootstrap).

Kept apart from `agents.ports` so that `shaobao top` can use the lag reader without Faust.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.ops import PartitionLag


class LagUnavailable(Exception):
    """Kafka could not be asked for offsets this time; the next poll tries again."""


class LagReader(Protocol):
    async def lag(self, group: str, now: datetime, topics: Sequence[str] = ()) -> list[PartitionLag]:
        """Lag per partition of `group`; raises `LagUnavailable`."""
        ...


class StoreErrorCount(Protocol):
    """How many times the ticket store has failed since the process started."""

    @property
    def errors_total(self) -> int: ...
