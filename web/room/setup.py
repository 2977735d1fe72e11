"""Builds the control room from the settings: the composition of its real components."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.jurisdiction import Jurisdiction
from domain.room.view import RoomView
from infra.kafka.room_feed import AiokafkaRoomFeed
from infra.postgres.room_queries import AsyncpgRoomQueries
from infra.postgres.room_sessions import AsyncpgRoomSessions
from infra.postgres.store import AsyncpgTicketStore
from infra.postgres.tokens import AsyncpgTokenStore
from streams.names import TopicNames
from streams.settings import Settings
from web.ports import ActionPublisher
from web.room.auth import AnyOf, PasswordCredentials, RoomSessions, TokenCredentials
from web.room.live import RoomLive, local_day_start
from web.room.routes import ControlRoom


def system_now() -> datetime:
    return datetime.now(UTC)


def create_control_room(
    settings: Settings, store: AsyncpgTicketStore, jurisdiction: Jurisdiction, publisher: ActionPublisher
) -> ControlRoom:
    names = TopicNames(settings.topic_prefix)
    queries = AsyncpgRoomQueries(store)
    feed = AiokafkaRoomFeed(settings.kafka, names.events, names.alerts, names.app_id)
    view = RoomView(
        day_start=local_day_start(system_now(), jurisdiction.timezone), timezone=jurisdiction.timezone
    )
    credentials = AnyOf(
        TokenCredentials(AsyncpgTokenStore(store)), PasswordCredentials(settings.room_password)
    )
    # Sessions in PostgreSQL: they outlive a restart of the web process, and every web
    # process behind a balancer sees the same ones.
    sessions = RoomSessions(credentials, AsyncpgRoomSessions(store))
    return ControlRoom(
        live=RoomLive(view, feed, queries, system_now, jurisdiction),
        queries=queries,
        sessions=sessions,
        publisher=publisher,
        jurisdiction=jurisdiction,
    )
