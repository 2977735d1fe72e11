"""`shaobao units simulate`: departments and towns working their orders, as their systems would.

Reads every unit's `units.<unit>.orders` (one consumer group) and writes each unit's actions
to that unit's own `units.<unit>.actions`. What a unit does and when is
`shaobao.simulation.unit_behaviour`'s plan, drawn from a random generator seeded with the order id.

Restart safety: an order's offset is committed only once its plan is done (every action sent
and flushed, nothing awaited), so after a crash the orders still in hand are read again and
planned again into the same actions with the same ids, which the ticket agent ignores.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from infra.reference import load_jurisdiction
from schemas.orders import WorkOrder
from shaobao.simulation.unit_behaviour import HABITS, Habits, Plan, decision_key, plan_report_in, respond
from streams.names import TopicNames
from streams.settings import Settings

log = logging.getLogger(__name__)
TICK_S = 0.2
COMMIT_EVERY_S = 1.0
REPORT_EVERY_S = 30.0


def simulator_group(names: TopicNames) -> str:
    return f"{names.app_id}-unit-simulator"


@dataclass
class _InHand:
    """One unit's plan for one ticket (or one whistle), and the order records it rests on
    (kept uncommitted until the plan is done)."""

    unit: str
    plan: Plan
    pins: set[tuple[TopicPartition, int]] = field(default_factory=set)


class UnitSimulator:
    """Orders in, plans kept, due actions out; `run` until `stop` is set."""

    def __init__(
        self, settings: Settings, speed: float = 1.0, seed: int = 0, habits: Habits = HABITS
    ) -> None:
        self.settings, self.speed, self.seed, self.habits = settings, speed, seed, habits
        self.names = TopicNames(settings.topic_prefix)
        self.units = load_jurisdiction(settings.jurisdiction_file).unit_codes
        self._unit_of_topic = {self.names.unit_orders(unit): unit for unit in self.units}
        self.in_hand: dict[tuple[str, str], _InHand] = {}
        self.next_offset: dict[TopicPartition, int] = {}
        self.actions_sent = 0

    def _rng(self, order: WorkOrder) -> random.Random:
        return random.Random(f"{self.seed}:{decision_key(order)}")  # noqa: S311 - simulation, not security

    def take(self, order: WorkOrder, unit: str, pin: tuple[TopicPartition, int]) -> None:
        """Plan, resume or drop what `unit` holds of the order's ticket."""
        rng = self._rng(order)
        if order.kind == "whistle":
            # Answered apart from any order the unit holds on the ticket: it may hold none.
            whistle = (order.ticket_id, f"{unit}:whistle:{order.whistle_id}")
            self.in_hand[whistle] = _InHand(unit, plan_report_in(order, rng, self.speed), {pin})
            return
        key = (order.ticket_id, unit)
        held = self.in_hand.get(key)
        plan = respond(order, held.plan if held else None, rng, self.speed, self.habits)
        if plan is None:
            self.in_hand.pop(key, None)
        elif held is None or plan is not held.plan:
            pins = {pin} if order.kind == "order" or held is None else held.pins | {pin}
            self.in_hand[key] = _InHand(unit, plan, pins)

    async def send_due(self, producer: AIOKafkaProducer, now: datetime) -> None:
        for key, held in list(self.in_hand.items()):
            steps = held.plan.steps
            while steps and steps[0].at <= now:
                action = steps[0].action
                topic = self.names.unit_actions(held.unit)
                value = action.model_dump_json().encode()
                try:
                    await producer.send(topic, key=action.ticket_id.encode(), value=value)
                except KafkaError as exc:
                    # No leader for the topic just now (a busy or restarting broker): next tick.
                    log.warning("cannot send to %s yet: %r", topic, exc)
                    break
                steps = steps[1:]
                self.actions_sent += 1
            held.plan = replace(held.plan, steps=steps)
            if not steps and held.plan.awaiting is None:
                del self.in_hand[key]

    def safe_offsets(self) -> dict[TopicPartition, int]:
        """Per partition, the offset up to which every order's plan is done."""
        safe = dict(self.next_offset)
        for held in self.in_hand.values():
            for tp, offset in held.pins:
                safe[tp] = min(safe.get(tp, offset), offset)
        return safe

    def drop(self, revoked: set[TopicPartition]) -> None:
        """Partitions taken away by a rebalance: their orders will be planned by their new owner."""
        for key, held in list(self.in_hand.items()):
            if any(tp in revoked for tp, _ in held.pins):
                del self.in_hand[key]
        for tp in revoked:
            self.next_offset.pop(tp, None)

    async def run(self, stop: asyncio.Event) -> None:
        topics = [self.names.unit_orders(unit) for unit in self.units]
        kafka = self.settings.kafka
        consumer = AIOKafkaConsumer(
            **kafka.client_options(),
            group_id=simulator_group(self.names),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        producer = AIOKafkaProducer(**kafka.producer_options(linger_ms=5))
        await producer.start()
        consumer.subscribe(topics, listener=_Rebalance(self))
        await consumer.start()
        committed: dict[TopicPartition, int] = {}
        last_commit = last_report = asyncio.get_running_loop().time()
        try:
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=int(TICK_S * 1000))
                for tp, records in batch.items():
                    for record in records:
                        self._read(tp, record.offset, record.topic, record.value)
                await self.send_due(producer, datetime.now(UTC))
                now = asyncio.get_running_loop().time()
                if now - last_commit >= COMMIT_EVERY_S:
                    committed = await self._commit(consumer, producer, committed)
                    last_commit = now
                if now - last_report >= REPORT_EVERY_S:
                    print(
                        f"unit simulator: {self.actions_sent} actions sent, {len(self.in_hand)} in hand",
                        flush=True,
                    )
                    last_report = now
        finally:
            await self._commit(consumer, producer, committed)
            await consumer.stop()
            await producer.stop()

    def _read(self, tp: TopicPartition, offset: int, topic: str, value: bytes | None) -> None:
        self.next_offset[tp] = offset + 1
        unit = self._unit_of_topic.get(topic)
        try:
            order = WorkOrder.model_validate_json(value or b"")
        except ValidationError as exc:
            log.warning("unreadable order at %s:%s: %s", tp, offset, exc)  # skipped; nothing to act on
            return
        if unit is not None:
            self.take(order, unit, (tp, offset))

    async def _commit(
        self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, committed: dict[TopicPartition, int]
    ) -> dict[TopicPartition, int]:
        safe = {tp: o for tp, o in self.safe_offsets().items() if committed.get(tp) != o}
        if not safe:
            return committed
        await (
            producer.flush()
        )  # the actions of finished plans are on the broker before their orders are let go
        try:
            await consumer.commit(safe)
        except Exception as exc:  # noqa: BLE001 - a rebalance in progress: the next commit catches up
            log.warning("commit failed, retrying later: %s", exc)
            return committed
        return committed | safe


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, simulator: UnitSimulator) -> None:
        self.simulator = simulator

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self.simulator.drop(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        return None


async def simulate_units(
    settings: Settings, speed: float, seed: int = 0, stop: asyncio.Event | None = None
) -> int:
    simulator = UnitSimulator(settings, speed=speed, seed=seed)
    print(f"unit simulator: {len(simulator.units)} units at speed {speed:g}", flush=True)
    await simulator.run(stop or asyncio.Event())
    print(f"unit simulator: {simulator.actions_sent} actions sent", flush=True)
    return 0
