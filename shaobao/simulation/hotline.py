"""`shaobao callbacks simulate`: the hotline's follow-up, as its staff would do it.

Reads `tickets.events` from the start (no consumer group: it rebuilds every open ticket's
state by the same fold as the ticket agent) and sends the control room's commands to
`tickets.commands`: the callback of every citizen of a completed ticket (its own caller and
every citizen merged into it), rework or the supervisor's judgement after a dissatisfied
callback, and decisions on returns, extensions and suggested manual dispatches. What and
when is `shaobao.simulation.hotline_behaviour`'s; command ids are deterministic, so after a restart the
commands already sent are sent again, and the ticket agent ignores them.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from domain.ticket.fold import FoldError, TicketState, TicketStatus, fold
from schemas.events import TICKET_EVENT
from shaobao.simulation.hotline_behaviour import SHARES, Move, Shares, next_moves
from streams.names import TopicNames
from streams.settings import Settings

log = logging.getLogger(__name__)
TICK_S = 0.2
REPORT_EVERY_S = 30.0
REMEMBERED_SENT = 100_000


class CallbackSimulator:
    """Every open ticket's state, its next moves, and the moves sent; `run` until `stop`."""

    def __init__(
        self, settings: Settings, speed: float = 1.0, seed: int = 0, shares: Shares = SHARES
    ) -> None:
        self.settings, self.speed, self.seed, self.shares = settings, speed, seed, shares
        self.names = TopicNames(settings.topic_prefix)
        self.tickets: dict[str, TicketState] = {}
        self.moves: dict[str, tuple[Move, ...]] = {}
        self._sent: deque[str] = deque(maxlen=REMEMBERED_SENT)
        self._sent_ids: set[str] = set()
        self.commands_sent = 0

    def _rng(self, command_id: str) -> random.Random:
        return random.Random(f"{self.seed}:{command_id}")  # noqa: S311 - simulation, not security

    def read(self, value: bytes | None) -> str | None:
        """Fold one event; returns the ticket it changed, if any."""
        try:
            event = TICKET_EVENT.validate_json(value or b"")
        except ValidationError as exc:
            log.warning("unreadable ticket event: %s", exc)
            return None
        state = self.tickets.get(event.ticket_id)
        if state is not None and event.version <= state.version:
            return None  # read again
        try:
            after = fold(state, event)
        except FoldError as exc:
            # A ticket whose start this reader never saw (older than the topic's retention).
            log.debug("skipping %s: %s", event.ticket_id, exc)
            return None
        if after.is_open or after.status == TicketStatus.INSTANT:
            self.tickets[event.ticket_id] = after  # an answer on the line is called back too
        else:
            self.tickets.pop(event.ticket_id, None)  # closed, transferred: nothing to follow up
        return event.ticket_id

    def replan(self, ticket_id: str) -> None:
        state = self.tickets.get(ticket_id)
        moves = next_moves(state, self._rng, self.speed, self.shares) if state is not None else ()
        fresh = tuple(m for m in moves if m.command.command_id not in self._sent_ids)
        if fresh:
            self.moves[ticket_id] = fresh
        else:
            self.moves.pop(ticket_id, None)

    async def send_due(self, producer: AIOKafkaProducer, now: datetime) -> None:
        for ticket_id, moves in list(self.moves.items()):
            sent: list[Move] = []
            for move in (m for m in moves if m.at <= now):
                command = move.command
                value = command.model_dump_json().encode()
                try:
                    await producer.send(self.names.commands, key=ticket_id.encode(), value=value)
                except KafkaError as exc:
                    # No leader for the partition just now (a busy or restarting broker): next tick.
                    log.warning("cannot send %s yet: %r", command.command_id, exc)
                    break
                sent.append(move)
                self._remember(command.command_id)
                self.commands_sent += 1
            left = tuple(m for m in moves if m not in sent)
            if left:
                self.moves[ticket_id] = left
            else:
                del self.moves[ticket_id]

    def _remember(self, command_id: str) -> None:
        if len(self._sent) == self._sent.maxlen:
            self._sent_ids.discard(self._sent[0])
        self._sent.append(command_id)
        self._sent_ids.add(command_id)

    async def run(self, stop: asyncio.Event) -> None:
        kafka = self.settings.kafka
        consumer = AIOKafkaConsumer(
            self.names.events,
            **kafka.client_options(),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        producer = AIOKafkaProducer(**kafka.producer_options(linger_ms=5))
        await producer.start()
        await consumer.start()
        last_report = asyncio.get_running_loop().time()
        try:
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=int(TICK_S * 1000))
                changed = {t for records in batch.values() for r in records if (t := self.read(r.value))}
                for ticket_id in changed:
                    self.replan(ticket_id)
                await self.send_due(producer, datetime.now(UTC))
                if asyncio.get_running_loop().time() - last_report >= REPORT_EVERY_S:
                    print(
                        f"callback simulator: {self.commands_sent} sent, {len(self.tickets)} open tickets",
                        flush=True,
                    )
                    last_report = asyncio.get_running_loop().time()
        finally:
            await consumer.stop()
            await producer.stop()


async def simulate_callbacks(
    settings: Settings, speed: float, seed: int = 0, stop: asyncio.Event | None = None
) -> int:
    simulator = CallbackSimulator(settings, speed=speed, seed=seed)
    print(f"callback simulator: following up tickets at speed {speed:g}", flush=True)
    await simulator.run(stop or asyncio.Event())
    print(f"callback simulator: {simulator.commands_sent} commands sent", flush=True)
    return 0
