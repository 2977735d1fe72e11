"""Cluster agents: appeals about the same problem merged into one ticket (多人反映), the same
caller about the same matter marked as a repeat call (重复来电).

`signal_clusters` reads `tickets.events` (keyed by ticket id) and tells `tickets.clusters`
which tickets open and leave, keyed by `category:town`, so that `detect_clusters` holds every
open ticket of one category and town on one partition, in its `cluster_index` table, and
sends the merge or repeat-call command to `tickets.commands`. The decisions are
`domain.clusters.detection`'s.
"""

from __future__ import annotations

from typing import Any

from agents.boundary import Record, boundary_for
from agents.outbox import TAKE, WITHIN_S, Outbox, Staged
from agents.ports import ReferenceData, TimeSource
from domain.clusters.detection import ClusterIndex, Tracked, on_signal, town_places, track
from schemas.clusters import ClusterSignal
from streams.app import Streams
from streams.codecs import decode_event, encode


def install(streams: Streams, reference: ReferenceData, clock: TimeSource) -> tuple[Any, Any]:
    tracks, index = Staged(streams.cluster_tracks), Staged(streams.cluster_index)
    signalling = boundary_for(streams, "signal_clusters", clock, ticket_keys=True)
    detecting = boundary_for(streams, "detect_clusters", clock)

    async def signal(record: Record, outbox: Outbox) -> None:
        event = decode_event(record.value or b"")
        stored = tracks.get(event.ticket_id)
        before = Tracked.model_validate_json(stored) if stored is not None else None
        after, signal = track(before, event)
        if signal is not None:
            await outbox.send(streams.clusters, signal.key.encode(), encode(signal))
        if after is None and stored is not None:
            tracks.pop(event.ticket_id)
        elif after is not None and after != before:
            tracks[event.ticket_id] = encode(after)

    async def detect(record: Record, outbox: Outbox) -> None:
        signal = ClusterSignal.model_validate_json(record.value or b"")
        stored = index.get(signal.key)
        before = ClusterIndex.model_validate_json(stored) if stored is not None else None
        places = town_places(reference.jurisdiction, signal.town)
        after, commands = on_signal(before, signal, places, clock.now())
        for command in commands:
            await outbox.send(streams.commands, command.ticket_id.encode(), encode(command))
        index[signal.key] = encode(after)

    @streams.app.agent(streams.events, name="signal_clusters", concurrency=1)
    async def signal_clusters(stream: Any) -> None:
        async for events in stream.take_events(TAKE, within=WITHIN_S):
            await signalling.handle_each([Record.of(event) for event in events], signal, (tracks,))

    @streams.app.agent(streams.clusters, name="detect_clusters", concurrency=1)
    async def detect_clusters(stream: Any) -> None:
        async for events in stream.take_events(TAKE, within=WITHIN_S):
            await detecting.handle_each([Record.of(event) for event in events], detect, (index,))

    return signal_clusters, detect_clusters
