"""Builds the control room from the settings: the composition of its real components."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.jurisdiction import Jurisdiction
from domain.room_view import RoomView
from infra.room_feed import AiokafkaRoomFeed
from infra.room_queries import AsyncpgRoomQueries
from infra.room_sessions import AsyncpgRoomSessions
from infra.store import AsyncpgTicketStore
from infra.tokens import AsyncpgTokenStore
from streams.names import TopicNames
from streams.settings import Settings
from web.api_ports import ActionPublisher
from web.room import ControlRoom
from web.room_auth import AnyOf, PasswordCredentials, RoomSessions, TokenCredentials
from web.room_live import RoomLive, local_day_start


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
