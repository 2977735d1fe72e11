"""Signals on `tickets.clusters` (internal; keyed by `category:town`): which tickets are open to
absorb appeals about the same problem (多人反映) or the same caller again (重复来电).

Written by the cluster-signal agent from `tickets.events`, read by the cluster agent, which
keeps the open tickets of each category and town together on one partition.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.appeal import Appeal
from schemas.base import AwareDatetime, WireModel


class ClusterSignal(WireModel):
    """`opened`: a ticket was dispatched in `category` and `town`, with its appeal;
    `left`: it was completed or closed and takes no more appeals."""

    schema_version: Literal[1] = 1
    kind: Literal["opened", "left"]
    ticket_id: str = Field(min_length=1)
    category: str = Field(min_length=1)
    town: str = Field(min_length=1)
    at: AwareDatetime
    appeal: Appeal | None = None

    @property
    def key(self) -> str:
        return cluster_key(self.category, self.town)


def cluster_key(category: str, town: str) -> str:
    return f"{category}:{town}"
