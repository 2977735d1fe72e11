"""The due-index: each mark handed out once, at or after its instant, in order; rebuilt from
stored states and kept current by events in either order; and the timers' command ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from agents.timers import AheadOfTable, IndexedState, flag, rebuild
from domain.time_limits import DueIndex, DueMark
from schemas.limits import Clock, ClockKind, Mark
from streams.app import create_streams
from streams.settings import Settings
from tests.unit.timertools import TimedDesk

T0 = datetime(2026, 9, 18, 8, 0, tzinfo=UTC)


def clock(
    key: ClockKind, warn_s: float, due_s: float, escalate_s: float, version: int = 2, **more: object
) -> Clock:
    return Clock.model_validate(
        {
            "kind": key,
            "unit": "zjj" if key is not ClockKind.CALLBACK else None,
            "started_at": T0,
            "warn_at": T0 + timedelta(seconds=warn_s),
            "due_at": T0 + timedelta(seconds=due_s),
            "escalate_at": T0 + timedelta(seconds=escalate_s),
            "limit": "2wh",
            "version": version,
        }
        | more
    )


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def fired(marks: list[DueMark]) -> list[tuple[str, str, Mark, int]]:
    return [(m.ticket_id, m.clock, m.mark, m.limit_version) for m in marks]


def test_marks_fall_due_at_warn_due_and_escalate_each_once() -> None:
    index = DueIndex()
    index.update("T1", 2, [clock(ClockKind.SIGN, 10, 20, 30)])
    assert index.pop_due(at(9.999)) == []
    assert fired(index.pop_due(at(10))) == [("T1", "sign", Mark.AT_RISK, 2)]
    assert index.pop_due(at(15)) == []
    assert fired(index.pop_due(at(25))) == [("T1", "sign", Mark.OVERDUE, 2)]
    assert fired(index.pop_due(at(31))) == [("T1", "sign", Mark.SUPERVISE, 2)]
    assert index.pop_due(at(10_000)) == [] and len(index) == 0


def test_marks_that_passed_during_an_outage_all_fire_at_once_oldest_first() -> None:
    index = DueIndex()
    index.update("T1", 2, [clock(ClockKind.SIGN, 10, 20, 30), clock(ClockKind.COMPLETE, 15, 50, 90)])
    due = index.pop_due(at(60))
    assert fired(due) == [
        ("T1", "sign", Mark.AT_RISK, 2),
        ("T1", "complete", Mark.AT_RISK, 2),
        ("T1", "sign", Mark.OVERDUE, 2),
        ("T1", "sign", Mark.SUPERVISE, 2),
        ("T1", "complete", Mark.OVERDUE, 2),
    ]
    assert [m.at for m in due] == [at(10), at(15), at(20), at(30), at(50)]
    assert index.next_due_at() == at(90)


def test_a_backlog_goes_out_a_few_a_call_behind_the_marks_falling_due_now() -> None:
    index = DueIndex()
    for n in range(10):  # ten tickets whose sign clock warned during an outage, 100 s ago or more
        index.update(f"L{n}", 2, [clock(ClockKind.SIGN, n, 1_000, 2_000)])
    index.update("F", 2, [clock(ClockKind.SIGN, 100, 1_000, 2_000)])  # warns now
    first = index.pop_due(at(100), late_s=2.0, late_limit=3)
    assert fired(first) == [(t, "sign", Mark.AT_RISK, 2) for t in ("L0", "L1", "L2", "F")]
    index.update("L4", 3, [clock(ClockKind.SIGN, 500, 1_000, 2_000)])  # no longer late: superseded
    later = [fired(index.pop_due(at(100.1), late_s=2.0, late_limit=3)) for _ in range(3)]
    assert [[t for t, *_ in call] for call in later] == [["L3", "L5", "L6"], ["L7", "L8", "L9"], []]
    assert index.heap_size == 11  # every ticket's next mark (due at 500 or 1,000), nothing set aside


def test_without_a_late_limit_the_whole_backlog_follows_the_fresh_marks() -> None:
    index = DueIndex()
    for n in range(5):
        index.update(f"L{n}", 2, [clock(ClockKind.SIGN, n, 1_000, 2_000)])
    index.update("F", 2, [clock(ClockKind.SIGN, 100, 1_000, 2_000)])
    assert [m.ticket_id for m in index.pop_due(at(100), late_s=2.0)] == ["L0", "L1", "L2", "L3", "L4", "F"]
    assert index.pop_due(at(100), late_s=2.0) == []


def test_marks_already_recorded_on_the_clock_are_not_handed_out() -> None:
    index = DueIndex()
    index.update("T1", 3, [clock(ClockKind.SIGN, 10, 20, 30, fired=("at_risk",))])
    assert fired(index.pop_due(at(25))) == [("T1", "sign", Mark.OVERDUE, 2)]


def test_an_older_update_is_ignored_and_a_newer_one_replaces_the_clocks() -> None:
    index = DueIndex()
    assert index.update("T1", 5, [clock(ClockKind.COMPLETE, 10, 20, 30, version=5)]) is True
    assert index.update("T1", 4, [clock(ClockKind.SIGN, 1, 2, 3)]) is False
    assert index.update("T1", 6, []) is True  # signed and completed: nothing runs
    assert index.pop_due(at(100)) == [] and len(index) == 0


def test_a_limit_extended_before_its_mark_fires_at_the_new_instant_with_its_new_version() -> None:
    index = DueIndex()
    index.update("T1", 2, [clock(ClockKind.COMPLETE, 10, 20, 30)])
    index.update("T1", 5, [clock(ClockKind.COMPLETE, 40, 50, 60, version=5)])
    assert index.pop_due(at(35)) == []
    assert fired(index.pop_due(at(45))) == [("T1", "complete", Mark.AT_RISK, 5)]


def test_the_command_id_names_ticket_clock_mark_and_limit_version() -> None:
    mark = DueMark(at(1), "T1", "report_in.cgj", Mark.OVERDUE, 7)
    assert mark.command_id == "T1:report_in.cgj:overdue:7"
    command = flag(mark, at(2))
    assert (command.command_id, command.ticket_id, command.clock, command.mark, command.limit_version) == (
        "T1:report_in.cgj:overdue:7",
        "T1",
        "report_in.cgj",
        Mark.OVERDUE,
        7,
    )


def test_the_index_is_rebuilt_from_stored_ticket_states() -> None:
    desk = TimedDesk("Fri 2026-09-18 16:00")
    index = DueIndex()
    closed = desk.state.model_copy(update={"ticket_id": "T2", "clocks": ()})
    stored = [desk.state.model_dump_json().encode(), None, closed.model_dump_json().encode()]
    assert rebuild(index, stored) == 2
    assert len(index) == 1
    due = index.pop_due(datetime(2026, 9, 30, tzinfo=UTC))
    assert fired(due) == [
        ("T1", "sign", Mark.AT_RISK, 2),
        ("T1", "sign", Mark.OVERDUE, 2),
        ("T1", "sign", Mark.SUPERVISE, 2),
        ("T1", "complete", Mark.AT_RISK, 2),
        ("T1", "complete", Mark.OVERDUE, 2),
        ("T1", "complete", Mark.SUPERVISE, 2),
    ]


def test_a_batch_limit_leaves_the_rest_for_the_next_round() -> None:
    index = DueIndex()
    for n in range(10):
        index.update(f"T{n}", 2, [clock(ClockKind.SIGN, 10 + n, 100, 200)])
    first = index.pop_due(at(50), limit=4)
    rest = index.pop_due(at(50))
    assert len(first) == 4 and len(rest) == 6
    assert {m.ticket_id for m in first + rest} == {f"T{n}" for n in range(10)}


instants = st.lists(st.integers(min_value=0, max_value=1000), min_size=3, max_size=3).map(sorted)


@settings(max_examples=200, deadline=None)
@given(
    clocks=st.lists(instants, min_size=1, max_size=5),
    polls=st.lists(st.integers(min_value=0, max_value=1200), min_size=1, max_size=20).map(sorted),
)
def test_every_mark_fires_exactly_once_and_never_early(clocks: list[list[int]], polls: list[int]) -> None:
    index = DueIndex()
    for n, (warn, due, escalate) in enumerate(clocks):
        index.update(f"T{n}", 2, [clock(ClockKind.COMPLETE, warn, due, escalate)])
    seen: list[DueMark] = []
    for poll in [*polls, 1200]:
        for mark in index.pop_due(at(poll)):
            assert mark.at <= at(poll)
            seen.append(mark)
    assert len(seen) == 3 * len(clocks)
    assert len({m.command_id for m in seen}) == len(seen)


def test_table_changelogs_keep_values_raw_so_a_restarted_worker_recovers_them() -> None:
    # Without it recovery JSON-decoded our raw bytes, failed on every ticket id, and the
    # due-index was never rebuilt after a restart.
    streams = create_streams(Settings(topic_prefix="w."))
    for table in streams.app.tables.values():
        assert (table.key_serializer, table.value_serializer) == ("json", "raw")
        assert table.changelog_topic.value_serializer == "raw"


def test_an_event_back_before_the_table_write_is_indexed_once_the_write_lands() -> None:
    """The ticket agent writes its table after the broker acknowledges the event, so the
    indexer can read the event first (make chaos: 65 marks never fired when it was dropped)."""
    index, ahead = DueIndex(), AheadOfTable(max_age_s=30.0)
    table: dict[str, IndexedState] = {}
    running = (clock(ClockKind.SIGN, 10, 20, 30, version=8),)
    ahead.park("T1", 8, now=0.0)  # the event of version 8 came back; the table holds nothing yet
    assert ahead.settle(index, table.get, now=0.05) == 0
    assert (len(ahead), len(index)) == (1, 0)
    table["T1"] = IndexedState(ticket_id="T1", version=8, clocks=running)  # the write lands
    assert ahead.settle(index, table.get, now=0.1) == 1
    assert (len(ahead), len(index)) == (0, 1)
    assert fired(index.pop_due(at(30))) == [
        ("T1", "sign", Mark.AT_RISK, 8),
        ("T1", "sign", Mark.OVERDUE, 8),
        ("T1", "sign", Mark.SUPERVISE, 8),
    ]


def test_a_parked_event_indexes_the_tables_state_even_when_the_table_went_further() -> None:
    index, ahead = DueIndex(), AheadOfTable()
    ahead.park("T1", 3, now=0.0)
    ahead.park("T1", 2, now=0.0)  # an older one changes nothing
    table = {
        "T1": IndexedState(ticket_id="T1", version=5, clocks=(clock(ClockKind.COMPLETE, 1, 2, 3, version=5),))
    }
    assert ahead.settle(index, table.get, now=1.0) == 1
    assert fired(index.pop_due(at(3))) == [
        ("T1", "complete", Mark.AT_RISK, 5),
        ("T1", "complete", Mark.OVERDUE, 5),
        ("T1", "complete", Mark.SUPERVISE, 5),
    ]


def test_an_event_the_table_never_catches_up_with_is_dropped_after_its_wait() -> None:
    index, ahead = DueIndex(), AheadOfTable(max_age_s=30.0)
    table = {"T1": IndexedState(ticket_id="T1", version=2, clocks=())}
    ahead.park("T1", 999, now=0.0)  # a broken writer's event, far ahead of the ticket
    assert ahead.settle(index, table.get, now=29.0) == 0
    assert len(ahead) == 1
    assert ahead.settle(index, table.get, now=31.0) == 0
    assert (len(ahead), len(index)) == (0, 0)


def test_parked_events_are_bounded_and_forgotten_with_the_partitions() -> None:
    ahead = AheadOfTable(limit=3)
    for n in range(5):
        ahead.park(f"T{n}", 1, now=float(n))
    assert len(ahead) == 3
    index = DueIndex()
    table = {f"T{n}": IndexedState(ticket_id=f"T{n}", version=1, clocks=()) for n in range(5)}
    assert ahead.settle(index, table.get, now=5.0) == 3  # T2, T3, T4: the oldest went first
    ahead.park("T9", 1, now=6.0)
    ahead.clear()
    assert len(ahead) == 0
