"""Clusters: the open ticket a new appeal belongs to (多人反映), and repeat callers (重复来电)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain import public_names

if TYPE_CHECKING:
    from domain.clusters.detection import ClusterIndex, Tracked, on_signal, town_places, track

__all__ = ["ClusterIndex", "Tracked", "on_signal", "town_places", "track"]

__getattr__ = public_names(
    __name__,
    {
        "ClusterIndex": "detection",
        "Tracked": "detection",
        "on_signal": "detection",
        "town_places": "detection",
        "track": "detection",
    },
)
