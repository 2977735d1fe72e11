"""The agents' error boundary (agents.boundary): poison becomes a dead letter, a passing fault
is retried, and anything else stops the worker without committing. No broker: the outlet is
a list, and the process exit is caught."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError
from pydantic import ValidationError

from agents import boundary as boundary_module
from agents.boundary import EXIT_CRASHED, EXIT_INTERRUPTED, Boundary, Record, reason_for
from agents.outbox import Outbox, Staged
from agents.ports import StoreUnavailable, Unfoldable, Unstorable
from domain.alerts import dead_letter_alert
from domain.ticket import FoldError
from schemas.dead_letters import DeadLetter
from streams.codecs import decode_command
from streams.faults import Faults, InjectedCrash
from streams.typed import TypedTopic
from tests.fakes import FrozenClock

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Exited(BaseException):
    def __init__(self, code: int) -> None:
        self.code = code


@pytest.fixture(autouse=True)
def no_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_exit(code: int) -> None:
        raise Exited(code)

    # The one exit (streams.departure), named by its dotted path: the module does not export `os`.
    monkeypatch.setattr("streams.departure.os._exit", fake_exit)


def record(offset: int = 7, value: bytes | None = b'{"x": 1}', key: bytes | None = b"k") -> Record:
    return Record("p.tickets.commands", 2, offset, key, value)


def make(
    letters: list[DeadLetter], faults: Faults | None = None, fail_outlet: Exception | None = None
) -> Boundary:
    async def outlet(letter: DeadLetter) -> None:
        if fail_outlet is not None:
            raise fail_outlet
        letters.append(letter)

    return Boundary("handle_ticket_commands", outlet, FrozenClock(NOW), faults=faults, first_backoff_s=0.01)


async def test_a_message_that_fails_becomes_one_dead_letter_with_its_bytes_and_the_agent_goes_on() -> None:
    letters: list[DeadLetter] = []
    tries: list[int] = []

    async def work(r: Record) -> None:
        tries.append(r.offset)
        decode_command(r.value or b"")

    await make(letters).handle(record(value=b"\x00\xffnot json"), work)
    assert tries == [7]  # poison is not retried
    [letter] = letters
    assert (letter.dead_letter_id, letter.agent, letter.reason) == (
        "p.tickets.commands:2:7:handle_ticket_commands",
        "handle_ticket_commands",
        "undecodable",
    )
    assert (letter.value_encoding, base64.b64decode(letter.value or "")) == ("base64", b"\x00\xffnot json")
    assert (letter.key, letter.value_length, letter.truncated) == ("k", 10, False)
    assert letter.value_sha256 == hashlib.sha256(b"\x00\xffnot json").hexdigest()
    assert letter.error_class == "ValidationError" and letter.dead_at == NOW


async def test_a_passing_fault_is_retried_until_it_passes_and_never_dead_lettered() -> None:
    letters: list[DeadLetter] = []
    failures = [StoreUnavailable("down"), KafkaConnectionError("no broker"), None]

    async def work(r: Record) -> None:
        failure = failures.pop(0)
        if failure is not None:
            raise failure

    await make(letters).handle(record(), work)
    assert (failures, letters) == ([], [])


async def test_a_dead_letter_that_cannot_be_written_stops_the_worker_without_committing() -> None:
    async def work(r: Record) -> None:
        raise RuntimeError("bug")

    with pytest.raises(Exited) as exited:
        await make([], fail_outlet=MessageSizeTooLargeError()).handle(record(), work)
    assert exited.value.code == EXIT_CRASHED


async def test_an_injected_crash_escapes_every_handler_and_stops_the_worker(tmp_path: Path) -> None:
    letters: list[DeadLetter] = []
    faults = Faults.parse("handle_ticket_commands:crash@2", str(tmp_path / "fired"))
    done: list[int] = []

    async def work(r: Record) -> None:
        done.append(r.offset)

    boundary = make(letters, faults)
    await boundary.handle(record(1), work)
    with pytest.raises(Exited) as exited:
        await boundary.handle(record(2), work)
    assert (exited.value.code, done, letters) == (EXIT_CRASHED, [1], [])
    assert Faults.parse("x:crash@1", str(tmp_path / "fired")).fired() == ["handle_ticket_commands:crash@2"]
    # The same plan in a restarted worker: the count goes on, the crash fired once.
    again = make(letters, Faults.parse("handle_ticket_commands:crash@2", str(tmp_path / "fired")))
    await again.handle(record(2), work)
    await again.handle(record(3), work)
    assert done == [1, 2, 3]


async def test_a_poisoned_message_stays_poisoned_when_it_is_read_again(tmp_path: Path) -> None:
    letters: list[DeadLetter] = []
    plan = ("handle_ticket_commands:poison@2", str(tmp_path / "fired"))
    done: list[int] = []

    async def work(r: Record) -> None:
        done.append(r.offset)

    for offset in (1, 2, 3):
        await make(letters, Faults.parse(*plan)).handle(record(offset), work)
    for offset in (2, 3):  # a restarted worker reads 2 and 3 again
        await make(letters, Faults.parse(*plan)).handle(record(offset), work)
    assert done == [1, 3, 3]
    assert [d.dead_letter_id for d in letters] == ["p.tickets.commands:2:2:handle_ticket_commands"] * 2


async def test_a_cancellation_in_the_middle_of_a_message_exits_rather_than_let_it_be_acked() -> None:
    async def work(r: Record) -> None:
        raise asyncio.CancelledError

    with pytest.raises(Exited) as exited:
        await make([]).handle(record(), work)
    assert exited.value.code == EXIT_INTERRUPTED


async def test_a_batch_that_fails_is_retried_one_record_at_a_time_and_only_the_bad_one_is_set_aside() -> None:
    letters: list[DeadLetter] = []
    written: list[int] = []

    async def work(records: Sequence[Record]) -> None:
        if any(r.value == b"bad" for r in records):
            raise ValueError("cannot")
        written.extend(r.offset for r in records)

    batch = [record(1), record(2, b"bad"), record(3)]
    await make(letters).handle_batch(batch, work)
    assert written == [1, 3]
    assert [(d.dead_letter_id, d.reason) for d in letters] == [
        ("p.tickets.commands:2:2:handle_ticket_commands", "processing_error")
    ]


def test_each_failure_has_its_reason() -> None:
    with pytest.raises(ValidationError) as not_json:
        decode_command(b"{")
    with pytest.raises(ValidationError) as wrong_value:
        decode_command(json.dumps({"type": "sign"}).encode())
    assert reason_for(not_json.value) == "undecodable"
    assert reason_for(wrong_value.value) in ("undecodable", "contract_violation")
    assert reason_for(FoldError("gap")) == reason_for(Unfoldable("gap", "t:3")) == "unfoldable"
    assert reason_for(Unstorable("DataError")) == "unstorable"
    assert reason_for(MessageSizeTooLargeError()) == "too_large"
    assert reason_for(ZeroDivisionError()) == "processing_error"


def test_a_dead_letter_of_any_size_and_content_stays_small_and_clean() -> None:
    letter = boundary_module.dead_letter(
        "take_in_appeals",
        record(value=b"\x01" * 300_000, key=b"\x00" * 10_000),
        RuntimeError("x\x00y"),
        FrozenClock(NOW),
    )
    encoded = letter.model_dump_json().encode()
    assert len(encoded) < 400_000
    assert (letter.truncated, letter.value_length, letter.value_encoding, letter.key_encoding) == (
        True,
        300_000,
        "base64",
        "base64",
    )
    assert len(base64.b64decode(letter.value or "")) == 256 * 1024
    assert letter.error == "x\\u0000y"
    assert DeadLetter.model_validate_json(encoded) == letter


def test_the_alert_names_the_agent_and_reason_in_chinese() -> None:
    letter = boundary_module.dead_letter("take_in_unit_actions", record(), ValueError("no"), FrozenClock(NOW))
    alert = dead_letter_alert(letter, "zjj")
    assert (alert.kind, alert.severity, alert.unit, alert.alert_id) == (
        "dead_letter",
        "critical",
        "zjj",
        "dead:p.tickets.commands:2:7:take_in_unit_actions",
    )
    assert "承办单位操作受理" in alert.message and "处理出错" in alert.message


def test_a_fault_plan_that_does_not_parse_is_refused() -> None:
    with pytest.raises(ValueError, match="agent:crash@N"):
        Faults.parse("take_in_appeals:explode@3")
    assert Faults.parse("").planned == ()
    with pytest.raises(InjectedCrash):
        Faults.parse("a:crash@1").before("a")


class Topic:
    """A topic whose sends are acknowledged when `ack()` is called: `refused` values fail for good,
    `flaky` ones fail once as Kafka unavailable and are then delivered."""

    def __init__(self, refused: set[bytes] | None = None, flaky: set[bytes] | None = None) -> None:
        self.refused, self.flaky = refused or set(), flaky or set()
        self.sent: list[bytes] = []
        self.delivered: list[bytes] = []

    async def send(self, *, key: bytes | None, value: bytes, partition: int | None, force: bool) -> object:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.sent.append(value)
        if value in self.refused:
            future.set_exception(MessageSizeTooLargeError())
        elif value in self.flaky:
            self.flaky.discard(value)
            future.set_exception(KafkaConnectionError("broker away"))
        else:
            self.delivered.append(value)
            future.set_result(None)
        return future


def counting_step(
    topic: Topic, table: Staged, bad: bytes = b"bad"
) -> Callable[[Record, Outbox], Awaitable[None]]:
    """Each record's value is sent, and `count` in the table goes up by one; `bad` fails half-way."""

    async def step(r: Record, outbox: Outbox) -> None:
        count = int(table.get("count") or b"0") + 1
        table["count"] = str(count).encode()
        await outbox.forward(TypedTopic(topic, bytes, bytes), b"k", r.value or b"")  # type: ignore[arg-type]
        if r.value == bad:
            raise ValueError("cannot")

    return step


async def test_a_batch_reads_its_own_staged_writes_and_writes_the_table_only_after_delivery() -> None:
    letters: list[DeadLetter] = []
    topic, table = Topic(), {"count": b"10"}
    staged = Staged(table)
    seen_at_send: list[bytes | None] = []

    async def step(r: Record, outbox: Outbox) -> None:
        seen_at_send.append(table.get("count"))  # the real table, as each record is processed
        await counting_step(topic, staged)(r, outbox)

    batch = [record(1, b"a"), record(2, b"bad"), record(3, b"c")]
    await make(letters).handle_each(batch, step, [staged])
    # The failing record's write is dropped; the others read each other's writes.
    assert (table, seen_at_send) == ({"count": b"12"}, [b"10", b"10", b"10"])
    assert topic.delivered == [b"a", b"bad", b"c"]
    assert [(d.dead_letter_id, d.reason) for d in letters] == [
        ("p.tickets.commands:2:2:handle_ticket_commands", "processing_error")
    ]


async def test_a_passing_delivery_failure_sends_the_batch_again_and_writes_the_table_once() -> None:
    letters: list[DeadLetter] = []
    topic, table = Topic(flaky={b"b"}), {"count": b"0"}
    staged = Staged(table)
    await make(letters).handle_each(
        [record(1, b"a"), record(2, b"b")], counting_step(topic, staged), [staged]
    )
    assert (table, letters) == ({"count": b"2"}, [])
    assert topic.sent == [b"a", b"b", b"a", b"b"]


async def test_an_undeliverable_output_sets_aside_only_its_record_and_the_others_are_written() -> None:
    letters: list[DeadLetter] = []
    topic, table = Topic(refused={b"huge"}), {"count": b"0"}
    staged = Staged(table)
    batch = [record(1, b"a"), record(2, b"huge"), record(3, b"c")]
    await make(letters).handle_each(batch, counting_step(topic, staged), [staged])
    assert table == {"count": b"2"}
    assert [(d.dead_letter_id, d.reason) for d in letters] == [
        ("p.tickets.commands:2:2:handle_ticket_commands", "too_large")
    ]


async def test_a_poison_planned_for_a_record_of_a_batch_fails_that_record_alone(tmp_path: Path) -> None:
    letters: list[DeadLetter] = []
    topic, table = Topic(), {"count": b"0"}
    staged = Staged(table)
    faults = Faults.parse("handle_ticket_commands:poison@2", str(tmp_path / "fired"))
    batch = [record(1, b"a"), record(2, b"b"), record(3, b"c")]
    await make(letters, faults).handle_each(batch, counting_step(topic, staged), [staged])
    assert (table, topic.delivered) == ({"count": b"2"}, [b"a", b"c"])
    assert [d.dead_letter_id for d in letters] == ["p.tickets.commands:2:2:handle_ticket_commands"]


def test_a_staged_deletion_hides_the_key_until_written_and_then_removes_it() -> None:
    table = {"t1": b"x"}
    staged = Staged(table)
    staged.pop("t1")
    assert (staged.get("t1"), table) == (None, {"t1": b"x"})
    staged.keep()
    staged.write()
    assert table == {}
