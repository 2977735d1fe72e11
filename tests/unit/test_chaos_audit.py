"""The chaos audit's definitions (bench/chaos/audit*.py) on synthetic records: events built with
the real schemas (so the fold is the real one), ids and fates made by the code that makes them
in the pipeline (ticket ids, duplicate commands, rejections, dead letters, work orders)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest

from agents.boundary import Record, dead_letter
from bench.chaos.audit import FaultWindow, audit
from bench.chaos.audit_fates import intake_fates
from bench.chaos.audit_log import LogRecord, Logs, TicketLog, ticket_logs
from bench.chaos.audit_marks import mark_counts
from bench.chaos.audit_orders import expected_orders, order_counts
from bench.chaos.audit_read import VerifyUnreadable, differences_in
from bench.chaos.audit_timing import max_stall_s, nearest_rank, split_latencies_ms, stall_around_s, stalls
from domain.intake.ids import duplicate_command, receive_command, ticket_id_for
from domain.ticket import order_messages
from infra.reference import load_jurisdiction
from schemas.appeal import Appeal
from schemas.base import WireModel
from schemas.events import (
    DuplicateReceived,
    LimitAtRisk,
    LimitOverdue,
    OrderSigned,
    TicketDispatched,
    TicketEvent,
    TicketReceived,
)
from schemas.limits import Clock, ClockKind, Mark
from schemas.rejections import SourcePosition
from streams.codecs import IntakeRejection, encode, encode_event, rejection
from streams.partitioning import partition_for
from streams.settings import DEFAULT_JURISDICTION
from tests.fakes import SEWER_TRIAGE, FrozenClock

COUNTY = load_jurisdiction(DEFAULT_JURISDICTION)
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
INTAKE, COMMANDS = "c.appeals.intake", "c.tickets.commands"
PARTITIONS = 6
TZ = "Asia/Shanghai"
E = TypeVar("E", bound=WireModel)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


CLOCK = FrozenClock(T0)  # the time the dead letters are stamped with


def homed(name: str, partition: int) -> Appeal:
    """An appeal whose key the default partitioner puts on `partition` (where intake keeps it)."""
    for i in range(1000):
        appeal = Appeal(
            channel="phone",
            source_id=f"{name}-{i}",
            received_at=T0,
            text="白马桥街道凤凰城小区门口下水道堵塞，污水外溢到路面",
            address="凤凰城小区",
        )
        if partition_for(appeal.intake_key.encode(), PARTITIONS) == partition:
            return appeal
    raise AssertionError(f"no key for partition {partition}")


def intake(appeal: Appeal | bytes, partition: int, offset: int, seconds: float) -> LogRecord:
    if isinstance(appeal, bytes):
        return LogRecord(partition, offset, b"phone:bad", appeal, at(seconds))
    return LogRecord(partition, offset, appeal.intake_key.encode(), encode(appeal), at(seconds))


def event(model: Callable[..., E], ticket_id: str, version: int, seconds: float, **fields: Any) -> E:
    """One `model` event, version `version` of the ticket, occurring at T0 + `seconds`."""
    fields.setdefault("command_id", f"c-{ticket_id}-{version}")
    return model(
        event_id=f"{ticket_id}:{version}",
        ticket_id=ticket_id,
        version=version,
        occurred_at=at(seconds),
        **fields,
    )


def opened(
    ticket_id: str,
    seconds: float,
    co: tuple[str, ...] = ("baimaqiao",),
    clocks: tuple[Clock, ...] | None = None,
) -> list[TicketEvent]:
    """Received and dispatched by the router (to zjj, with `co`)."""
    appeal = homed(ticket_id, 0)
    return [
        event(TicketReceived, ticket_id, 1, seconds, appeal=appeal, triage=SEWER_TRIAGE),
        event(
            TicketDispatched,
            ticket_id,
            2,
            seconds,
            lead="zjj",
            co=co,
            category="drainage.sewer",
            town="baimaqiao",
            urgency="normal",
            clocks=clocks,
        ),
    ]


@dataclass
class Topic:
    """A topic's records as they were written: offsets in order on one partition."""

    records: list[LogRecord] = field(default_factory=list)

    def add(self, value: bytes, seconds: float) -> None:
        self.records.append(LogRecord(0, len(self.records), None, value, at(seconds)))

    def events(self, events: list[TicketEvent], seconds: float) -> None:
        for event in events:
            self.add(encode_event(event), seconds)


def logs_of(
    intake_records: list[LogRecord],
    events: Topic,
    rejected: Topic | None = None,
    letters: Topic | None = None,
    orders: dict[str, list[LogRecord]] | None = None,
    read_at: float = 100.0,
) -> Logs:
    return Logs(
        intake_topic=INTAKE,
        commands_topic=COMMANDS,
        intake_partitions=PARTITIONS,
        intake=intake_records,
        events=events.records,
        rejected=(rejected or Topic()).records,
        dead_letters=(letters or Topic()).records,
        orders=orders or {},
        read_at=at(read_at),
    )


def fates_scenario() -> tuple[Logs, dict[str, str]]:
    """One intake record of each fate, one with two, one with none; returns the ticket ids."""
    a, c, d, e = homed("a", 0), homed("c", 0), homed("d", 0), homed("e", 0)
    f, g = homed("f", 1), homed("g", 2)
    ids = {
        "a": ticket_id_for(a, 0, 0, TZ),
        "d": ticket_id_for(d, 0, 4, TZ),
        "f": ticket_id_for(f, 1, 0, TZ),
        "g": ticket_id_for(g, 2, 9, TZ),
    }
    records = [
        intake(a, 0, 0, 0),  # a ticket
        intake(a, 0, 1, 1),  # the same appeal again: a duplicate
        intake(b"{not json", 0, 2, 2),  # a rejection
        intake(c, 0, 3, 3),  # poisoned in the intake agent: a dead letter
        intake(d, 0, 4, 4),  # a ticket and also a duplicate: unaccounted
        intake(e, 0, 5, 5),  # nothing at all: unaccounted
        intake(f, 1, 0, 6),  # its command dead-lettered by the ticket agent: a dead letter
        intake(g, 3, 7, 7),  # not on its key's partition: forwarded by the intake agent …
        intake(g, 2, 9, 7.1),  # … to partition 2, where it became a ticket
    ]
    events = Topic()
    events.events(opened(ids["a"], 0), 0.5)
    duplicate = duplicate_command(a, ids["a"], 0, 1, at(1))
    repeated = event(
        DuplicateReceived,
        ids["a"],
        3,
        1.5,
        command_id=duplicate.command_id,
        channel=a.channel,
        source_id=a.source_id,
        received_at=a.received_at,
    )
    events.events([repeated, repeated], 1.5)  # a producer retry: one event
    events.events(opened(ids["d"], 4), 4.5)
    stray = duplicate_command(d, ids["a"], 0, 4, at(4))
    events.events(
        [
            event(
                DuplicateReceived,
                ids["a"],
                4,
                4.6,
                command_id=stray.command_id,
                channel=d.channel,
                source_id=d.source_id,
                received_at=d.received_at,
            )
        ],
        4.6,
    )
    events.events(opened(ids["g"], 7.3), 7.3)
    rejected = Topic()
    refused = rejection(
        b"{not json",
        b"phone:bad",
        IntakeRejection("invalid_json", "no"),
        SourcePosition(topic=INTAKE, partition=0, offset=2),
        T0,
    )
    rejected.add(encode(refused), 2.5)
    rejected.add(encode(refused), 30)  # written again after a crash: the same rejection
    letters = Topic()
    poisoned = Record(INTAKE, 0, 3, c.intake_key.encode(), encode(c))
    letters.add(encode(dead_letter("take_in_appeals", poisoned, ValueError("poison"), CLOCK)), 3.5)
    command = receive_command(f, ids["f"], SEWER_TRIAGE, at(6))
    held = Record(COMMANDS, 4, 11, ids["f"].encode(), encode(command))
    letters.add(encode(dead_letter("handle_ticket_commands", held, ValueError("poison"), CLOCK)), 20)
    hostile = Record(COMMANDS, 4, 12, b"x", b"\xff\xfe not json")
    letters.add(encode(dead_letter("handle_ticket_commands", hostile, ValueError("bad"), CLOCK)), 21)
    return logs_of(records, events, rejected, letters), ids


def test_each_intake_record_is_matched_to_its_fates_by_the_keys_the_pipeline_writes() -> None:
    logs, _ = fates_scenario()
    found = intake_fates(logs, ticket_logs(logs.events))
    kinds = {(a.partition, a.offset): sorted(f.kind for f in a.fates) for a in found}
    assert kinds == {
        (0, 0): ["ticket"],
        (0, 1): ["duplicate"],  # its event written twice is one event
        (0, 2): ["rejection"],  # its rejection written twice is one rejection
        (0, 3): ["dead_letter"],
        (0, 4): ["duplicate", "ticket"],
        (0, 5): [],
        (1, 0): ["dead_letter"],  # through the ReceiveAppeal the ticket agent set aside
        (3, 7): ["forwarded"],
        (2, 9): ["ticket"],
    }
    assert [a.accounted for a in found] == [True, True, True, True, False, False, True, True, True]
    decided = {(a.partition, a.offset): [f.decided_at for f in a.fates] for a in found}
    assert decided[(0, 0)] == [at(0.5)] and decided[(0, 1)] == [at(1.5)] and decided[(0, 2)] == [at(2.5)]
    assert decided[(1, 0)] == [at(20)] and decided[(3, 7)] == [None]


def test_a_record_with_a_fate_of_its_own_does_not_also_count_its_dead_lettered_command() -> None:
    """The intake agent sent the command again after a crash; the copy made the ticket."""
    logs, ids = fates_scenario()
    events = Topic(list(logs.events))
    events.events(opened(ids["f"], 25), 25)
    again = logs_of(list(logs.intake), events, Topic(list(logs.rejected)), Topic(list(logs.dead_letters)))
    found = {(a.partition, a.offset): a for a in intake_fates(again, ticket_logs(again.events))}
    assert [fate.kind for fate in found[(1, 0)].fates] == ["ticket"]


def test_the_audit_counts_every_outcome_of_a_run_exactly() -> None:
    logs, ids = fates_scenario()
    # The orders of tickets a and g reached both units; d's (unaccounted anyway) reached none.
    logs = logs_of(
        list(logs.intake),
        Topic(list(logs.events)),
        Topic(list(logs.rejected)),
        Topic(list(logs.dead_letters)),
        orders=orders_sent(ticket_logs(logs.events), (ids["a"], ids["g"])),
    )
    windows = [FaultWindow("worker_kill", at(6.5), at(6.5))]
    outcomes = audit(logs, windows, COUNTY, verify_differences=0)
    assert outcomes.as_dict() == {
        "appeals": 9,
        "appeals_unaccounted": 2,
        "fates": {"ticket": 2, "duplicate": 1, "rejection": 1, "dead_letter": 2, "forwarded": 1},
        "orders_conflicting": 0,
        "orders_missing": 2,  # d's order to zjj and to baimaqiao
        "marks_missed": 0,
        "marks_doubled": 0,
        "verify_differences": 0,
        # f waited from 6 s to its dead letter at 20 s, and from g's ticket at 7.3 s on, nothing
        # else was decided: 12.7 s
        "max_stall_s": 12.7,
        "dispatch_p50_ms_quiet": 500.0,  # a: arrived at 0, dispatched at 0.5
        "dispatch_p99_ms_quiet": 500.0,
        "dispatch_p50_ms_faults": pytest.approx(200.0),  # g's copy arrived at 7.1, within 30 s of the kill
        "dispatch_p99_ms_faults": pytest.approx(200.0),
        "stall_by_fault_s": (pytest.approx(12.7),),  # the stall from 7.3 s began 0.8 s after the kill
    }


def orders_sent(tickets: dict[str, TicketLog], which: tuple[str, ...]) -> dict[str, list[LogRecord]]:
    """Every order the orders agent sends for the tickets `which`, once, on its unit's topic."""
    found: dict[str, list[LogRecord]] = {"zjj": [], "baimaqiao": []}
    for ticket in which:
        for step in tickets[ticket].folded():
            for order in order_messages(step.before, step.after, step.event, COUNTY):
                found[order.unit].append(LogRecord(0, len(found[order.unit]), None, encode(order), at(8)))
    return found


def order_records(orders: list[tuple[str, bytes]]) -> dict[str, list[LogRecord]]:
    found: dict[str, list[LogRecord]] = {"zjj": [], "baimaqiao": []}
    for unit, value in orders:
        found[unit].append(LogRecord(0, len(found[unit]), None, value, at(50)))
    return found


def test_orders_conflict_only_with_different_bytes_and_are_missing_only_when_owed() -> None:
    events = Topic()
    events.events(opened("T1", 10), 10)  # to zjj and baimaqiao
    events.events(opened("T2", 10, co=()), 10)  # to zjj alone
    events.events(opened("T3", 95), 95)  # 5 s before the read: not owed yet
    tickets = ticket_logs(events.records)
    assert expected_orders(tickets, COUNTY, until=at(70)) == {
        ("zjj", "T1:2:zjj"),
        ("baimaqiao", "T1:2:baimaqiao"),
        ("zjj", "T2:2:zjj"),
    }
    steps = {t: list(log.folded())[-1] for t, log in tickets.items()}
    (t1_zjj, _), (t2_zjj,) = (
        order_messages(steps[t].before, steps[t].after, steps[t].event, COUNTY) for t in ("T1", "T2")
    )
    changed = t2_zjj.model_copy(update={"note": "another payload under the same id"})
    sent = order_records(
        [("zjj", encode(t1_zjj)), ("zjj", encode(t1_zjj)), ("zjj", encode(t2_zjj)), ("zjj", encode(changed))]
    )
    counts = order_counts(tickets, sent, COUNTY, until=at(70))
    assert (counts.conflicting, counts.missing) == (1, 1)  # T2's order twice unlike; T1's to baimaqiao


def clock(kind: ClockKind, version: int, started: float, marks: tuple[float, float, float]) -> Clock:
    warn, due, escalate = marks
    return Clock(
        kind=kind,
        unit="zjj",
        started_at=at(started),
        warn_at=at(warn),
        due_at=at(due),
        escalate_at=at(escalate),
        limit="2min",
        version=version,
    )


def marked(mark: Mark, ticket: str, version: int, c: Clock) -> TicketEvent:
    """The ticket agent's record of a mark of `c`, as `domain.time_limits.decisions` makes it,
    1 s after it fell due."""
    mark_at = c.mark_at(mark)
    seconds = (mark_at - T0).total_seconds() + 1
    fields = {"clock": c.key, "kind": c.kind, "unit": c.unit, "limit_version": c.version, "due_at": c.due_at}
    if mark is Mark.AT_RISK:
        return event(LimitAtRisk, ticket, version, seconds, mark_at=mark_at, **fields)
    assert mark is Mark.OVERDUE
    return event(LimitOverdue, ticket, version, seconds, mark_at=mark_at, **fields)


def signed(ticket: str, version: int, seconds: float, clocks: tuple[Clock, ...]) -> TicketEvent:
    return event(OrderSigned, ticket, version, seconds, unit="zjj", role="lead", clocks=clocks)


def test_marks_are_missed_when_owed_and_never_recorded_and_doubled_when_recorded_twice() -> None:
    events = Topic()
    sign = clock(ClockKind.SIGN, 2, 0, (60, 120, 180))
    complete = clock(ClockKind.COMPLETE, 2, 0, (200, 400, 600))
    # M1: sign at risk recorded twice (doubled); signed at 100 s, before overdue + grace (not
    # owed); complete at risk owed and never recorded (missed); complete overdue recorded;
    # complete's supervise falls after the read at 500 s (not owed).
    events.events(opened("M1", 0, clocks=(sign, complete)), 0)
    events.events([marked(Mark.AT_RISK, "M1", 3, sign), marked(Mark.AT_RISK, "M1", 4, sign)], 61)
    events.events([signed("M1", 5, 100, (complete,))], 100)
    events.events([marked(Mark.OVERDUE, "M1", 6, complete)], 401)
    # M2: at risk at 60 s, not recorded, and the clock stopped at 100 s: missed on purpose.
    events.events(opened("M2", 0, clocks=(sign,)), 0)
    events.events([signed("M2", 3, 100, ())], 100)
    # M3: the dispatch reached the log at 200 s, its marks already past; signed at 210 s.
    late = clock(ClockKind.SIGN, 2, 0, (10, 20, 30))
    events.events(opened("M3", 0, clocks=(late,)), 200)
    events.events([signed("M3", 3, 210, ())], 210)
    counts = mark_counts(ticket_logs(events.records), at(500), grace_s=30)
    assert (counts.missed, counts.doubled) == (2, 1)


def test_a_longer_grace_forgives_a_mark_late_by_less_than_it() -> None:
    events = Topic()
    sign = clock(ClockKind.SIGN, 2, 0, (60, 120, 180))
    events.events(opened("M2", 0, clocks=(sign,)), 0)
    events.events([signed("M2", 3, 100, ())], 100)
    assert mark_counts(ticket_logs(events.records), at(500), grace_s=45).missed == 0


def test_the_longest_stall_is_a_gap_with_appeals_waiting_and_no_decision() -> None:
    waited = [
        (at(0), at(1)),
        (at(2), at(3)),
        # nothing waits from 3 s to 10 s: no stall, however long
        (at(10), at(25)),  # waiting, and nothing decided, from 10 s to 25 s
        (at(11), at(26)),
        (at(30), at(30)),  # decided as it arrived
    ]
    assert max_stall_s(waited) == 15.0
    assert max_stall_s([(at(30), at(30))]) == 0.0
    assert max_stall_s([]) == 0.0


def test_each_fault_is_given_the_longest_stall_overlapping_it_and_its_tail() -> None:
    found = stalls([(at(0), at(1)), (at(10), at(14)), (at(12), at(13)), (at(40), at(48))])
    assert found == [(at(0), at(1)), (at(10), at(13)), (at(13), at(14)), (at(40), at(48))]
    # A worker joining at 9 s (lifted at 11 s): the stall from 10 s to 13 s is its rebalance.
    assert stall_around_s(found, (at(9), at(11)), after_s=5.0) == 3.0
    # A stall starting within the tail counts; one starting after it does not.
    assert stall_around_s(found, (at(30), at(35)), after_s=5.0) == 8.0
    assert stall_around_s(found, (at(30), at(34)), after_s=5.0) == 0.0
    assert stall_around_s([], (at(0), at(1)), after_s=5.0) == 0.0


def test_dispatch_latency_is_split_by_arrival_within_a_fault_or_its_30_s_after() -> None:
    faults = [(at(100), at(110))]
    waited = [
        (at(50), at(50.2)),  # quiet
        (at(105), at(109)),  # during the fault
        (at(139), at(139.5)),  # 29 s after it was lifted
        (at(141), at(141.1)),  # 31 s after: quiet again
    ]
    quiet, during = split_latencies_ms(waited, faults, after_s=30)
    assert [round(ms) for ms in quiet] == [200, 100]
    assert [round(ms) for ms in during] == [4000, 500]
    assert round(nearest_rank(quiet, 50) or 0) == 100 and round(nearest_rank(quiet, 99) or 0) == 200


@pytest.mark.parametrize(
    ("values", "percent", "expected"),
    [
        ([float(v) for v in range(1, 101)], 50, 50.0),
        ([float(v) for v in range(1, 101)], 99, 99.0),
        ([float(v) for v in range(100, 0, -1)], 99, 99.0),
        ([7.0], 99, 7.0),
        ([3.0, 1.0, 2.0], 50, 2.0),
        ([], 50, None),
    ],
)
def test_percentiles_are_nearest_rank(values: list[float], percent: int, expected: float | None) -> None:
    assert nearest_rank(values, percent) == expected


def test_verify_output_gives_its_count_of_differences() -> None:
    out = "missing_event      T1  T1:3 (order_signed)\n1 differences between p.tickets.events and the store\n"
    assert differences_in(1, out, "") == 1
    assert differences_in(0, "0 differences between p.tickets.events and the store\n", "") == 0


@pytest.mark.parametrize(
    ("code", "out"),
    [
        (1, "Traceback (most recent call last): …"),  # no count
        (0, "2 differences between p.tickets.events and the store\n"),  # exit code disagrees
        (2, "usage: shaobao verify"),
    ],
)
def test_verify_output_without_a_count_it_stands_by_is_an_error(code: int, out: str) -> None:
    with pytest.raises(VerifyUnreadable):
        differences_in(code, out, "")
