"""Builds the control room from its ports: the live view, the login and the sessions."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.jurisdiction import Jurisdiction
from domain.room import RoomView
from streams.settings import Settings
from web.ports import ActionPublisher, RoomPorts
from web.room.auth import AnyOf, PasswordCredentials, RoomSessions, TokenCredentials
from web.room.live import RoomLive, local_day_start
from web.room.routes import ControlRoom


def system_now() -> datetime:
    return datetime.now(UTC)


def create_control_room(
    settings: Settings, ports: RoomPorts, jurisdiction: Jurisdiction, publisher: ActionPublisher
) -> ControlRoom:
    view = RoomView(
        day_start=local_day_start(system_now(), jurisdiction.timezone), timezone=jurisdiction.timezone
    )
    credentials = AnyOf(TokenCredentials(ports.tokens), PasswordCredentials(settings.room_password))
    # Sessions in the store the ports name (PostgreSQL): they outlive a restart of the web
    # process, and every web process behind a balancer sees the same ones.
    sessions = RoomSessions(credentials, ports.sessions)
    return ControlRoom(
        live=RoomLive(view, ports.feed, ports.queries, system_now, jurisdiction),
        queries=ports.queries,
        sessions=sessions,
        publisher=publisher,
        jurisdiction=jurisdiction,
    )
