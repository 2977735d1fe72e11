"""多人反映 and 重复来电: which appeals are the same problem, the same caller again, and what the
lifecycle does with them."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from domain.clusters.detection import (
    POLICY,
    ClusterIndex,
    Member,
    member_of,
    normalised_text,
    on_signal,
    phone_hash,
    text_similarity,
    town_places,
    track,
)
from domain.intake.ids import receive_command
from domain.jurisdiction import Jurisdiction
from domain.ticket.decide import decide
from schemas.appeal import Appeal, Caller
from schemas.clusters import ClusterSignal
from schemas.commands import MergeAppeal, RecordRepeatCall
from shaobao.simulation.appeals import CORPUS
from tests.fakes import SEWER_TRIAGE

NOW = datetime(2026, 3, 2, 1, 15, tzinfo=UTC)
SAME_PROBLEM = (
    "来电人反映：白马桥街道凤凰城小区门口下水道堵塞，污水外溢到路面，臭味很大，请相关部门疏通。",
    "市民来电反映：凤凰城小区大门口的下水道堵了，污水溢到马路上，很臭，请尽快疏通。",
    "来电人称：白马桥街道凤凰城小区门口下水道又堵塞了，污水流到路面，希望尽快处理。",
)
AGAIN = "来电人再次反映：凤凰城小区门口下水道堵塞还没有疏通，污水外溢，请尽快处理。"
OTHER_PROBLEM = "来电人反映：凤凰城小区地下车库排水沟堵塞，雨天车库进水，请物业处理。"


def appeal(n: int, text: str, phone: str, address: str = "凤凰城小区", **more: object) -> Appeal:
    return Appeal.model_validate(
        {
            "channel": "phone",
            "source_id": f"c{n}",
            "received_at": NOW + timedelta(minutes=n),
            "text": text,
            "address": address,
            "caller": Caller(name="市民", phone=phone),
            **more,
        }
    )


def opened(ticket: str, a: Appeal, at: datetime = NOW) -> ClusterSignal:
    return ClusterSignal(
        kind="opened", ticket_id=ticket, category="drainage.sewer", town="baimaqiao", at=at, appeal=a
    )


@pytest.fixture
def places(jurisdiction: Jurisdiction) -> tuple[str, ...]:
    return town_places(jurisdiction, "baimaqiao")


def test_the_text_compared_drops_the_lead_in_the_requests_and_phone_numbers() -> None:
    text = "来电人反映：凤凰城小区下水道堵了，请相关部门尽快处理，电话13912345678。"
    assert normalised_text(text) == "凤凰城小区下水道堵电话1395678"


def test_a_phone_number_is_hashed_the_same_however_written_and_never_kept_raw() -> None:
    assert (
        phone_hash("139 1234 5678") == phone_hash("+86 13912345678") == phone_hash("１３９１２３４５６７８")
    )
    assert phone_hash("13912345678") != phone_hash("13912345679")
    assert phone_hash(None) is None and phone_hash("110") is None
    assert "13912345678" not in (phone_hash("13912345678") or "")


def test_different_problems_of_one_category_and_town_in_the_corpus_are_never_merged() -> None:
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        expect = record["expect"]
        if expect["disposition"] == "dispatch":
            groups[(expect["category"], expect["town"])].append(normalised_text(record["text"]))
    pairs = [(a, b) for texts in groups.values() for a, b in itertools.combinations(texts, 2)]
    assert len(pairs) > 100
    worst = max(text_similarity(a, b) for a, b in pairs)
    # Even naming the same place, the best-matching different problems stay below the threshold.
    assert POLICY.text_weight * worst + (1 - POLICY.text_weight) < POLICY.merge_threshold


def test_three_citizens_about_one_blocked_drain_make_one_ticket_and_the_first_caller_again_is_a_repeat(
    places: tuple[str, ...],
) -> None:
    first = appeal(0, SAME_PROBLEM[0], "18939595216")
    index, commands = on_signal(None, opened("T1", first), places, NOW)
    assert (len(index.members), commands) == (1, ())
    for n, (text, phone) in enumerate(zip(SAME_PROBLEM[1:], ("13800001111", "13900002222"), strict=True), 1):
        index, commands = on_signal(index, opened(f"T{n + 1}", appeal(n, text, phone)), places, NOW)
        [merge] = commands
        assert isinstance(merge, MergeAppeal)
        assert (merge.ticket_id, merge.source_ticket_id, merge.command_id) == (
            "T1",
            f"T{n + 1}",
            f"cluster:T{n + 1}",
        )
        assert (merge.role, merge.operator, merge.source_appeal.source_id) == ("system", "auto", f"c{n}")
        assert merge.score is not None and merge.score >= POLICY.merge_threshold
    assert [m.ticket_id for m in index.members] == ["T1"]
    assert len(index.members[0].callers) == 3
    index, commands = on_signal(index, opened("T4", appeal(4, AGAIN, "189 3959 5216")), places, NOW)
    [repeat] = commands
    assert isinstance(repeat, RecordRepeatCall)
    assert (repeat.ticket_id, repeat.source_ticket_id, repeat.source_intake_key) == ("T1", "T4", "phone:c4")
    assert repeat.command_id == "repeat:T4"


def test_a_signal_read_again_makes_the_same_command_and_changes_nothing(places: tuple[str, ...]) -> None:
    index, _ = on_signal(None, opened("T1", appeal(0, SAME_PROBLEM[0], "18939595216")), places, NOW)
    second = opened("T2", appeal(1, SAME_PROBLEM[1], "13800001111"))
    once, first_commands = on_signal(index, second, places, NOW)
    twice, again_commands = on_signal(once, second, places, NOW)
    assert (twice, again_commands) == (once, first_commands)


def test_another_problem_at_the_same_place_another_town_or_too_late_opens_its_own_ticket(
    places: tuple[str, ...],
) -> None:
    index, _ = on_signal(None, opened("T1", appeal(0, SAME_PROBLEM[0], "18939595216")), places, NOW)
    index, commands = on_signal(index, opened("T2", appeal(1, OTHER_PROBLEM, "13800001111")), places, NOW)
    assert (commands, [m.ticket_id for m in index.members]) == ((), ["T1", "T2"])
    late = appeal(
        3, SAME_PROBLEM[1], "13700001111", received_at=NOW + POLICY.cluster_window + timedelta(hours=1)
    )
    assert on_signal(index, opened("T3", late), places, NOW)[1] == ()


def test_a_copy_of_the_text_is_merged_even_with_no_place_in_common(places: tuple[str, ...]) -> None:
    index, _ = on_signal(
        None,
        opened("T1", appeal(0, "菜市场门口垃圾桶满了没人清运，臭气熏天。", "13800001111", "")),
        places,
        NOW,
    )
    copy = appeal(1, "菜市场门口垃圾桶满了没人清运，臭气熏天！", "13900002222", "")
    assert [type(c) for c in on_signal(index, opened("T2", copy), places, NOW)[1]] == [MergeAppeal]


def test_a_ticket_that_left_takes_no_more_appeals_and_old_ones_are_forgotten(places: tuple[str, ...]) -> None:
    index, _ = on_signal(None, opened("T1", appeal(0, SAME_PROBLEM[0], "18939595216")), places, NOW)
    left = ClusterSignal(kind="left", ticket_id="T1", category="drainage.sewer", town="baimaqiao", at=NOW)
    assert on_signal(index, left, places, NOW)[0] == ClusterIndex()
    assert (
        on_signal(index, left.model_copy(update={"ticket_id": "T9"}), places, NOW + POLICY.repeat_window * 2)[
            0
        ]
        == ClusterIndex()
    )


def test_the_signals_follow_a_ticket_from_dispatch_to_completion(places: tuple[str, ...]) -> None:
    decision = decide(
        None, receive_command(appeal(0, SAME_PROBLEM[0], "18939595216"), "T1", SEWER_TRIAGE, NOW), NOW
    )
    received, dispatched = decision.events
    tracked, signal = track(None, received)
    assert tracked is not None and tracked.appeal is not None and signal is None
    tracked, signal = track(tracked, dispatched)
    assert signal is not None and (signal.kind, signal.key, signal.appeal) == (
        "opened",
        "drainage.sewer:baimaqiao",
        received.appeal,  # type: ignore[union-attr]
    )
    assert tracked is not None and tracked.appeal is None
    assert isinstance(member_of("T1", received.appeal, places, NOW), Member)  # type: ignore[union-attr]


def test_a_repeat_call_is_marked_on_the_ticket_and_closes_the_new_one_into_it() -> None:
    first = decide(
        None, receive_command(appeal(0, SAME_PROBLEM[0], "18939595216"), "T1", SEWER_TRIAGE, NOW), NOW
    )
    assert first.state is not None
    repeat = RecordRepeatCall(
        command_id="repeat:T4",
        ticket_id="T1",
        issued_at=NOW,
        operator="auto",
        role="system",
        source_ticket_id="T4",
        source_intake_key="phone:c4",
        source_received_at=NOW,
        score=0.6,
    )
    marked = decide(first.state, repeat, NOW)
    assert [e.type for e in marked.events] == ["repeat_call_recorded"]
    assert marked.state is not None and marked.state.repeat_calls == ("T4",)
    assert marked.state.callback_targets == ("phone:c0",)  # one caller, called back once
    [close] = marked.follow_ups
    assert (close.type, close.ticket_id, close.command_id) == ("close_as_merged", "T4", "merged:T1:3")
    again = decide(marked.state, repeat.model_copy(update={"command_id": "repeat:T4:x"}), NOW)
    assert [e.type for e in again.events] == ["command_rejected"]
