"""The unit simulator lets go of an order (commits past it) only once its plan is done, so a
restart finds again every order still being worked on."""

from __future__ import annotations

from datetime import timedelta

from aiokafka import TopicPartition

from shaobao.simulation.unit_behaviour import Habits
from shaobao.simulation.units import UnitSimulator
from streams.settings import Settings
from tests.unit.test_unit_behaviour import NOW, order

TP = TopicPartition("units.zjj.orders", 0)
ASKS_MORE_TIME = Habits(lead_returns=0, asks_extension=1, notes_progress=0)


class Collecting:
    """A producer that keeps what it is given."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        self.sent.append((topic, value))


async def test_an_order_is_held_until_its_plan_is_done_and_a_cancel_lets_it_go() -> None:
    simulator = UnitSimulator(Settings(), speed=1.0, habits=Habits(lead_returns=0, asks_extension=0))
    simulator.next_offset[TP] = 8
    simulator.take(order(), "zjj", (TP, 7))
    assert simulator.safe_offsets() == {TP: 7}
    producer = Collecting()
    await simulator.send_due(producer, NOW + timedelta(days=1))
    assert [topic for topic, _ in producer.sent] == ["units.zjj.actions"] * len(producer.sent)
    assert b'"type":"complete"' in producer.sent[-1][1]
    assert (simulator.in_hand, simulator.safe_offsets()) == ({}, {TP: 8})
    simulator.take(order(order_id="T2:2:zjj", ticket_id="T2"), "zjj", (TP, 8))
    simulator.next_offset[TP] = 10
    simulator.take(order(order_id="T2:4:zjj", ticket_id="T2", kind="cancel"), "zjj", (TP, 9))
    assert simulator.safe_offsets() == {TP: 10}


async def test_a_lead_waiting_for_the_hotline_keeps_its_order_and_the_decision_until_it_completes() -> None:
    simulator = UnitSimulator(Settings(), speed=1.0, habits=ASKS_MORE_TIME)
    simulator.take(order(), "zjj", (TP, 3))
    producer = Collecting()
    await simulator.send_due(producer, NOW + timedelta(days=1))
    assert b'"type":"request_extension"' in producer.sent[-1][1]
    simulator.next_offset[TP] = 6
    assert simulator.safe_offsets() == {TP: 3}  # still waiting: the order is not let go
    simulator.take(order(order_id="T1:5:zjj", kind="update", note="延期已批准：延长 3wd"), "zjj", (TP, 5))
    assert simulator.safe_offsets() == {TP: 3}
    await simulator.send_due(producer, NOW + timedelta(days=2))
    assert b'"type":"complete"' in producer.sent[-1][1]
    assert simulator.safe_offsets() == {TP: 6}
