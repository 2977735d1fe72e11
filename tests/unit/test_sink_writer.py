"""The sink's held batch: retried until the store takes it, one alert when it goes, one when back."""

from __future__ import annotations

from collections.abc import Sequence

from agents.ports import StoreUnavailable
from agents.sink import HeldBatchWriter
from schemas.alerts import Alert
from tests.fakes import SteppingClock


class FlakyStore:
    """Refuses the first `down_for` writes, as PostgreSQL does while it is stopped."""

    def __init__(self, down_for: int) -> None:
        self.down_for, self.attempts = down_for, 0
        self.written: list[str] = []

    async def write(self, batch: Sequence[str]) -> int:
        self.attempts += 1
        if self.attempts <= self.down_for:
            raise StoreUnavailable("[Errno 111] Connect call failed")
        self.written.extend(batch)
        return len(batch)


async def test_a_batch_is_held_until_the_store_is_back_and_the_outage_is_alerted_once_each_way() -> None:
    sent: list[Alert] = []

    async def send(alert: Alert) -> None:
        sent.append(alert)

    store = FlakyStore(down_for=4)
    writer = HeldBatchWriter(send, SteppingClock(), first_backoff_s=0.001, max_backoff_s=0.002)
    written = await writer.write(["T1:1", "T1:2"], store.write, "T1:1")
    assert (written, store.attempts, store.written, writer.unwritten) == (2, 5, ["T1:1", "T1:2"], False)
    assert [(a.alert_id, a.kind, a.severity) for a in sent] == [
        ("store-down:T1:1", "store_errors", "critical"),
        ("store-back:T1:1", "store_errors", "info"),
    ]
    assert sent[1].details == {"held_from": "T1:1", "attempts": "4", "down_s": "10.0"}


async def test_a_store_that_is_up_raises_no_alert() -> None:
    sent: list[Alert] = []

    async def send(alert: Alert) -> None:
        sent.append(alert)

    store = FlakyStore(down_for=0)
    assert await HeldBatchWriter(send, SteppingClock()).write(["T2:1"], store.write, "T2:1") == 1
    assert (store.attempts, sent) == (1, [])
