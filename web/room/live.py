"""The control room's live loop: seed the view from PostgreSQL, fold the feed into it, push
the board to every open SSE stream within a fraction of a second of each event."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from agents.ports import StoreUnavailable
from domain.jurisdiction import Jurisdiction
from domain.room import RoomView
from domain.room.board import board
from schemas.alerts import Alert
from schemas.events import TICKET_EVENT
from web.ports import FeedNotReady, RoomFeed, RoomQueries

log = logging.getLogger(__name__)
TICK_S = 1.0  # the board is pushed at least this often: limits pass with time alone
RETRY_S = 1.0
STOP_WAIT_S = 5.0
RELOAD_S = 0.5  # how often tickets waiting past a gap are read again from PostgreSQL


class Subscriber:
    """One open stream: the newest board and every ticket changed since it last read, so a
    slow browser skips boards but never misses that a ticket it shows has changed."""

    def __init__(self) -> None:
        self._board: str | None = None
        self._changed: set[str] = set()
        self._wake = asyncio.Event()

    def push(self, board: str, changed: set[str]) -> None:
        self._board = board
        self._changed |= changed
        self._wake.set()

    async def next(self, timeout_s: float) -> list[str]:
        """The SSE messages waiting (tickets changed, then the board); [] after `timeout_s`."""
        try:
            await asyncio.wait_for(self._wake.wait(), timeout_s)
        except TimeoutError:
            return []
        self._wake.clear()
        messages = [f"event: tickets\ndata: {json.dumps(sorted(self._changed))}\n\n"] if self._changed else []
        if self._board is not None:
            messages.append(self._board)
        self._board, self._changed = None, set()
        return messages


def to_json(value: object) -> Any:
    """Dataclasses, pydantic models and datetimes as JSON-ready values."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if is_dataclass(value) and not isinstance(value, type):
        return {k: to_json(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def local_day_start(now: datetime, timezone: str) -> datetime:
    zone = ZoneInfo(timezone)
    return datetime.combine(now.astimezone(zone).date(), time(), tzinfo=zone).astimezone(UTC)


class RoomLive:
    def __init__(
        self,
        view: RoomView,
        feed: RoomFeed,
        queries: RoomQueries,
        clock: Callable[[], datetime],
        jurisdiction: Jurisdiction | None = None,
    ) -> None:
        self.view = view
        self.jurisdiction = jurisdiction
        self._feed = feed
        self._queries = queries
        self._clock = clock
        self._subscribers: set[Subscriber] = set()
        self._task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()
        self._stopping = asyncio.Event()
        self.events_applied = 0

    def now(self) -> datetime:
        return self._clock()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="control-room-live")

    async def stop(self) -> None:
        """Let the loop finish its step (a query cut off midway would leak its connection)."""
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), STOP_WAIT_S)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        await self._feed.stop()

    def subscribe(self) -> Subscriber:
        subscriber = Subscriber()
        self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    def board_json(self) -> str:
        return json.dumps(to_json(board(self.view, self.now(), self.jurisdiction)), ensure_ascii=False)

    def board_message(self) -> str:
        return f"event: board\ndata: {self.board_json()}\n\n"

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._seed()
                await self._follow()
            except (StoreUnavailable, FeedNotReady, OSError) as exc:
                # PostgreSQL or the topics are not there yet (the stack is starting), or the
                # broker went away: read the snapshot again and follow on from it.
                log.warning("control room not live: %s", exc)
                self.ready.clear()
                await self._feed.stop()
                await asyncio.sleep(RETRY_S)

    async def _follow(self) -> None:
        last_push = last_reload = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            events, alerts = await self._feed.read(timeout_ms=100)
            self._apply(events, alerts)
            if self.view.waiting and loop.time() - last_reload >= RELOAD_S:
                await self._reload_waiting()
                last_reload = loop.time()
            changed = self.view.drain_changed()
            if changed or loop.time() - last_push >= TICK_S:
                self._roll_day()
                message = self.board_message()
                for subscriber in list(self._subscribers):
                    subscriber.push(message, changed - {""})
                last_push = loop.time()

    async def _seed(self) -> None:
        committed = await self._feed.committed()
        now = self.now()
        self.view.day_start = local_day_start(now, self.view.timezone)
        tickets, today = await self._queries.snapshot(self.view.day_start)
        self.view.seed(tickets, today)
        await self._feed.start(committed, now)
        log.info("control room seeded with %d tickets", len(tickets))
        self.ready.set()

    def _apply(self, events: list[bytes], alerts: list[bytes]) -> None:
        for raw in events:
            try:
                event = TICKET_EVENT.validate_json(raw)
            except ValidationError as exc:
                # An event type this web process does not know yet (an older build): skip it.
                log.warning("control room skips an undecodable event: %s", exc.errors()[:1])
                continue
            self.events_applied += self.view.apply(event)
        for raw in alerts:
            try:
                self.view.note_alert(Alert.model_validate_json(raw))
            except ValidationError as exc:
                log.warning("control room skips an undecodable alert: %s", exc.errors()[:1])

    async def _reload_waiting(self) -> None:
        try:
            for ticket in await self._queries.tickets(sorted(self.view.waiting)):
                self.view.reload(ticket)
        except StoreUnavailable as exc:
            log.warning("control room cannot reload tickets now: %s", exc)

    def _roll_day(self) -> None:
        day_start = local_day_start(self.now(), self.view.timezone)
        if day_start != self.view.day_start:
            self.view.new_day(day_start)
