"""Cluster agents: appeals about the same problem merged into one ticket (多人反映), the same
caller about the same matter marked as a repeat call (重复来电).

`signal_clusters` reads `tickets.events` (keyed by ticket id) and tells `tickets.clusters`
which tickets open and leave, keyed by `category:town`, so that `detect_clusters` holds every
open ticket of one category and town on one partition, in its `cluster_index` table, and
sends the merge or repeat-call command to `tickets.commands`. The decisions are
`domain.cluster_detection`'s.
"""

from __future__ import annotations

from typing import Any

from agents.ports import Clock, ReferenceData
from domain.cluster_detection import ClusterIndex, Tracked, on_signal, town_places, track
from schemas.clusters import ClusterSignal
from streams.app import Streams
from streams.codecs import decode_event, encode


def install(streams: Streams, reference: ReferenceData, clock: Clock) -> tuple[Any, Any]:
    tracks, index = streams.cluster_tracks, streams.cluster_index

    @streams.app.agent(streams.events, name="signal_clusters", concurrency=1)
    async def signal_clusters(stream: Any) -> None:
        async for raw in stream:
            event = decode_event(raw)
            stored = tracks.get(event.ticket_id)
            before = Tracked.model_validate_json(stored) if stored is not None else None
            after, signal = track(before, event)
            if signal is not None:
                await streams.clusters.send(key=signal.key.encode(), value=encode(signal), force=True)
            if after is None and stored is not None:
                tracks.pop(event.ticket_id, None)
            elif after is not None and after != before:
                tracks[event.ticket_id] = encode(after)

    @streams.app.agent(streams.clusters, name="detect_clusters", concurrency=1)
    async def detect_clusters(stream: Any) -> None:
        async for raw in stream:
            signal = ClusterSignal.model_validate_json(raw)
            stored = index.get(signal.key)
            before = ClusterIndex.model_validate_json(stored) if stored is not None else None
            places = town_places(reference.jurisdiction, signal.town)
            after, commands = on_signal(before, signal, places, clock.now())
            for command in commands:
                await streams.commands.send(key=command.ticket_id.encode(), value=encode(command), force=True)
            index[signal.key] = encode(after)

    return signal_clusters, detect_clusters
