"""Cluster agents: appeals about the same problem merged into one ticket (多人反映), the same
caller about the same matter marked as a repeat call (重复来电).

`signal_clusters` reads `tickets.events` (keyed by ticket id) and tells `tickets.clusters`
which tickets open and leave, keyed by `category:town`, so that `detect_clusters` holds every
open ticket of one category and town on one partition, in its `cluster_index` table, and
sends the merge or repeat-call command to `tickets.commands`. The decisions are
`domain.clusters.detection`'s.
"""

from __future__ import annotations

from faust.types import AgentT

from agents.boundary import Record, boundary_for
from agents.outbox import Outbox, Staged
from agents.ports import ReferenceData, TimeSource
from agents.subscriptions import each_batch
from domain.clusters import ClusterIndex, Tracked, on_signal, town_places, track
from streams.app import Streams
from streams.codecs import encode


def install_signals(streams: Streams, clock: TimeSource) -> AgentT[bytes]:
    tracks = Staged(streams.cluster_tracks)
    boundary = boundary_for(streams, "signal_clusters", clock, ticket_keys=True)

    async def signal(record: Record, outbox: Outbox) -> None:
        event = streams.events.decode(record.value)
        stored = tracks.get(event.ticket_id)
        before = Tracked.model_validate_json(stored) if stored is not None else None
        after, signal = track(before, event)
        if signal is not None:
            await outbox.send(streams.clusters, signal.key, signal)
        if after is None and stored is not None:
            tracks.pop(event.ticket_id)
        elif after is not None and after != before:
            tracks[event.ticket_id] = encode(after)

    return each_batch(streams, streams.events, boundary, signal, (tracks,))


def install_detection(streams: Streams, reference: ReferenceData, clock: TimeSource) -> AgentT[bytes]:
    index = Staged(streams.cluster_index)
    boundary = boundary_for(streams, "detect_clusters", clock)

    async def detect(record: Record, outbox: Outbox) -> None:
        signal = streams.clusters.decode(record.value)
        stored = index.get(signal.key)
        before = ClusterIndex.model_validate_json(stored) if stored is not None else None
        places = town_places(reference.jurisdiction, signal.town)
        after, commands = on_signal(before, signal, places, clock.now())
        for command in commands:
            await outbox.send(streams.commands, command.ticket_id, command)
        index[signal.key] = encode(after)

    return each_batch(streams, streams.clusters, boundary, detect, (index,))


def install(
    streams: Streams, reference: ReferenceData, clock: TimeSource
) -> tuple[AgentT[bytes], AgentT[bytes]]:
    return install_signals(streams, clock), install_detection(streams, reference, clock)
