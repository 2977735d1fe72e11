"""Point-in-polygon for optional town boundaries, so an app's coordinates can name a town."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

# A ring of (lon, lat) vertices; the last vertex need not repeat the first.
Polygon = Sequence[tuple[float, float]]


def contains(polygon: Polygon, lon: float, lat: float) -> bool:
    """Even-odd ray casting; points exactly on an edge may fall either way."""
    inside = False
    count = len(polygon)
    for i in range(count):
        x1, y1 = polygon[i]
        x2, y2 = polygon[(i + 1) % count]
        if (y1 > lat) != (y2 > lat):
            x_cross = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lon < x_cross:
                inside = not inside
    return inside


def town_at(lat: float, lon: float, boundaries: Mapping[str, Sequence[Polygon]]) -> str | None:
    """The one town whose boundary holds the point; None when none or several do."""
    hits = [town for town, polygons in boundaries.items() if any(contains(p, lon, lat) for p in polygons)]
    return hits[0] if len(hits) == 1 else None
