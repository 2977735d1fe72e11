"""Builds the control room from the settings: the composition of its real components."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from domain.jurisdiction import Jurisdiction
from domain.room_view import RoomView
from infra.room_feed import AiokafkaRoomFeed
from infra.room_queries import AsyncpgRoomQueries
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
    feed = AiokafkaRoomFeed(settings.kafka_bootstrap_servers, names.events, names.alerts, names.app_id)
    view = RoomView(
        day_start=local_day_start(system_now(), jurisdiction.timezone), timezone=jurisdiction.timezone
    )
    credentials = AnyOf(
        TokenCredentials(AsyncpgTokenStore(store)), PasswordCredentials(settings.room_password)
    )
    # A fixed key keeps sessions across restarts of the web process; without one, each start
    # signs with a new random key and the desks log in again.
    key = os.environ.get("SHAOBAO_ROOM_SESSION_KEY", "").encode() or None
    return ControlRoom(
        live=RoomLive(view, feed, queries, system_now, jurisdiction),
        queries=queries,
        sessions=RoomSessions(credentials, key),
        publisher=publisher,
        jurisdiction=jurisdiction,
    )
