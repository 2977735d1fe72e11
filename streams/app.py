"""The Faust app, its topics and its tables: declarations only, no business logic."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import faust
from faust.types import TableT, TopicT
from pydantic import BaseModel

from schemas.actions import UNIT_ACTION, UnitAction
from schemas.alerts import Alert
from schemas.appeal import Appeal
from schemas.clusters import ClusterSignal
from schemas.commands import TicketCommand
from schemas.dead_letters import DeadLetter
from schemas.events import TicketEvent
from schemas.orders import WorkOrder
from schemas.rejections import AppealRejected
from streams.codecs import decode_command, decode_event, encode, encode_event
from streams.faults import Faults
from streams.names import TopicNames
from streams.settings import Settings
from streams.typed import TypedTopic
from streams.versioned_recovery import keep_newest

W = TypeVar("W", bound=BaseModel)
Table = TableT[str, bytes]  # our own JSON bytes (pydantic) by a string key


@dataclass(frozen=True)
class Streams:
    """The app with every topic and table the agents use."""

    app: faust.App
    names: TopicNames
    intake: TypedTopic[Appeal]
    rejected: TypedTopic[AppealRejected]
    commands: TypedTopic[TicketCommand]
    events: TypedTopic[TicketEvent]
    alerts: TypedTopic[Alert]
    dead_letters: TypedTopic[DeadLetter]  # what an agent could not process (agents.boundary), kept forever
    clusters: TypedTopic[ClusterSignal]  # internal, keyed by category:town (多人反映, 重复来电)
    intake_seen: Table  # channel:source_id → ticket_id (intake idempotency)
    tickets: Table  # ticket_id → TicketState JSON (the aggregate's working state)
    order_views: Table  # ticket_id → TicketState JSON as last fanned out (orders idempotency)
    cluster_tracks: Table  # ticket_id → its appeal, then its category and town
    cluster_index: Table  # category:town → the open tickets that take appeals in
    unit_codes: tuple[str, ...] = ()  # the jurisdiction's units: whose actions topics are read
    unit_partitions: int = 3
    faults: Faults = field(default_factory=Faults.none)  # fault injection, for tests only

    def unit_orders(self, unit: str) -> TypedTopic[WorkOrder]:
        raw = self.app.topic(self.names.unit_orders(unit), key_serializer="raw", value_serializer="raw")
        return of_model(raw, WorkOrder)

    def unit_actions(self) -> TypedTopic[UnitAction]:
        """Every unit's `units.<unit>.actions`, as one subscription.

        An explicit list of the jurisdiction's units, not a pattern: a unit's identity is the
        topic's name, so only topics the deployment created for its units may confer one (a
        stray `units.x.actions` created by anyone would, with a pattern); it also needs no
        metadata refresh to see a topic, and they all exist before the worker starts.
        """
        names = [self.names.unit_actions(unit) for unit in self.unit_codes]
        raw = self.app.topic(
            *names, key_serializer="raw", value_serializer="raw", partitions=self.unit_partitions
        )
        # Read only, never sent to: an action is the unit's own record, re-encoded by nobody.
        return TypedTopic(raw, encode, UNIT_ACTION.validate_json)


def of_model(topic: TopicT, model: type[W]) -> TypedTopic[W]:
    """`topic` carrying records of one pydantic model, as compact JSON."""
    return TypedTopic(topic, encode, model.model_validate_json)


def create_streams(settings: Settings, units: Sequence[str] = ()) -> Streams:
    names = TopicNames(settings.topic_prefix)
    app = _app(settings, names)
    topic = _topic_maker(app, settings.ticket_partitions)
    table = _table_maker(app, settings.ticket_partitions)
    # A ticket's state and a unit's view of it only move forward (their version rises by one per
    # event): their recovery skips a late, older write of a worker that lost its partitions.
    tickets = keep_newest(table("tickets", "ticket id → ticket state"))
    order_views = keep_newest(table("order_views", "ticket id → state as last sent to units"))
    return Streams(
        app=app,
        names=names,
        intake=of_model(topic(names.intake), Appeal),
        rejected=of_model(topic(names.rejected), AppealRejected),
        commands=TypedTopic(topic(names.commands), encode, decode_command),
        events=TypedTopic(topic(names.events), encode_event, decode_event),
        alerts=of_model(topic(names.alerts), Alert),
        dead_letters=of_model(topic(names.dead_letters), DeadLetter),
        clusters=of_model(topic(names.clusters), ClusterSignal),
        intake_seen=table("intake_seen", "channel:source_id → ticket id"),
        tickets=tickets,
        order_views=order_views,
        cluster_tracks=table("cluster_tracks", "ticket id → appeal, category and town for clusters"),
        cluster_index=table("cluster_index", "category:town → open tickets taking appeals in"),
        unit_codes=tuple(units),
        unit_partitions=settings.unit_partitions,
        faults=Faults.parse(settings.faults, settings.faults_file),
    )


def _app(settings: Settings, names: TopicNames) -> faust.App:
    return faust.App(
        names.app_id,
        broker=settings.kafka.faust_broker,
        broker_credentials=settings.kafka.faust_credentials(),
        store="memory://",
        topic_partitions=settings.ticket_partitions,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        # Offsets are committed after the producer is flushed (at-least-once);
        # a short interval bounds how much is reprocessed after a crash.
        broker_commit_interval=1.0,
        # A worker that crashes leaves the group on its way out (streams.departure); one that
        # dies without a word (SIGKILL, a lost machine) is noticed when its session lapses:
        # 10 s, not Faust's 60, so its partitions move within seconds. Heartbeats go from the
        # consumer's own thread every second: the other workers learn of a rebalance (a worker
        # joining or leaving) at their next heartbeat, so each rebalance starts within 1 s.
        broker_session_timeout=10.0,
        broker_heartbeat_interval=1.0,
        web_enabled=True,
        web_port=settings.worker_web_port,
        web_bind="127.0.0.1",
        web_host="127.0.0.1",
        datadir=str(settings.datadir),
        table_cleanup_interval=30.0,
        producer_linger_ms=5,
    )


def _topic_maker(app: faust.App, partitions: int) -> Callable[[str], TopicT]:
    def topic(name: str) -> TopicT:
        return app.topic(name, key_serializer="raw", value_serializer="raw", partitions=partitions)

    return topic


def _table_maker(app: faust.App, partitions: int) -> Callable[[str, str], Table]:
    def table(name: str, help_text: str) -> Table:
        # Values are our own JSON bytes (pydantic), so the table codec stays raw.
        schema: faust.Schema[str, bytes] = faust.Schema(
            key_type=str, value_type=bytes, key_serializer="json", value_serializer="raw"
        )
        # key_type/value_type too: faust derives the changelog's serializers from them, not from
        # the schema, and without them recovery after a restart JSON-decoded the raw values
        # ("Extra data" on a ticket id) and never completed.
        return app.Table(
            name,
            default=None,
            schema=schema,
            key_type=str,
            value_type=bytes,
            partitions=partitions,
            help=help_text,
        )

    return table
