"""Simulated departments and the simulated hotline: their plans, and whole ticket lives driven
by them against the real lifecycle decisions, with no broker."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.intake.ids import receive_command
from domain.jurisdiction import Jurisdiction
from domain.ticket import TicketStatus
from domain.ticket.lifecycle.rules import rules_for
from domain.ticket.lifecycle.state import PendingExtension
from schemas.appeal import Appeal, Caller
from schemas.commands import DenyExtension, GrantExtension, MergeAppeal, RecordCallback
from schemas.orders import WorkOrder
from shaobao.simulation.hotline_behaviour import Shares, next_moves
from shaobao.simulation.unit_behaviour import SETTLE_S, Habits, plan_order, respond
from tests.fakes import SEWER_TRIAGE
from tests.unit.hotline_day import Day, replay

NOW = datetime(2026, 3, 2, 1, 15, tzinfo=UTC)
APPEAL = Appeal(
    channel="phone",
    source_id="v1",
    received_at=NOW,
    text="白马桥街道凤凰城小区门口下水道堵塞，污水外溢。",
    address="凤凰城小区",
    caller=Caller(name="向先生", phone="18939595216"),
)


def order(**overrides: object) -> WorkOrder:
    base: dict[str, object] = {
        "order_id": "T1:2:zjj",
        "ticket_id": "T1",
        "unit": "zjj",
        "role": "lead",
        "lead": "zjj",
        "co": ("baimaqiao",),
        "appeal_type": "help",
        "category": "drainage.sewer",
        "category_name": "排水管网",
        "urgency": "normal",
        "town": "baimaqiao",
        "town_name": "白马桥街道",
        "text": "下水道堵塞",
        "address": "凤凰城小区",
        "caller": None,
        "received_at": NOW,
        "dispatched_at": NOW,
    }
    return WorkOrder.model_validate(base | overrides)


def kinds(plan_steps: object) -> list[str]:
    return [step.action.type for step in plan_steps]  # type: ignore[attr-defined]


def test_the_same_order_and_seed_give_the_same_actions_with_ids_from_the_order() -> None:
    first = plan_order(order(), random.Random("s:T1:2:zjj"))
    again = plan_order(order(), random.Random("s:T1:2:zjj"))
    assert first == again
    assert [s.action.action_id for s in first.steps][0] == "sim:T1:2:zjj:0:sign"
    assert all(s.action.ticket_id == "T1" for s in first.steps)


def test_a_lead_that_works_it_signs_then_completes_with_a_reply_and_waits_for_nothing() -> None:
    habits = Habits(lead_returns=0, asks_extension=0, notes_progress=1, completes_late=0)
    plan = plan_order(order(), random.Random(1), habits=habits)
    assert (kinds(plan.steps), plan.awaiting) == (["sign", "note_progress", "complete"], None)
    reply = plan.steps[-1].action.reply  # type: ignore[union-attr]
    assert reply.startswith("您反映的排水管网问题，我单位已派员到白马桥街道核实")


def test_a_town_returns_what_it_lacks_the_power_for_and_waits_for_the_hotline() -> None:
    town = order(unit="baimaqiao", lead="baimaqiao", co=(), order_id="T1:2:baimaqiao")
    plan = plan_order(town, random.Random(3), habits=Habits(lead_returns=1, returns_after_signing=0))
    assert (kinds(plan.steps), plan.awaiting, plan.signed) == (["return"], "return", False)
    assert plan.steps[0].action.reason_code == "lacks_power"  # type: ignore[union-attr]


def test_a_lead_asking_for_more_time_waits_then_completes_once_told() -> None:
    habits = Habits(lead_returns=0, asks_extension=1, notes_progress=0)
    plan = plan_order(order(), random.Random(5), habits=habits)
    assert (kinds(plan.steps), plan.awaiting) == (["sign", "request_extension"], "extension")
    update = order(kind="update", order_id="T1:5:zjj", note="延期已批准：延长 3wd")
    waiting = plan.__class__(steps=(), awaiting="extension", signed=True)
    resumed = respond(update, waiting, random.Random(6), habits=habits)
    assert resumed is not None and (kinds(resumed.steps), resumed.awaiting) == (["complete"], None)


def test_a_cancel_ends_the_plan_and_an_update_not_awaited_changes_nothing() -> None:
    plan = plan_order(order(), random.Random(7))
    assert respond(order(kind="cancel", order_id="T1:4:zjj"), plan, random.Random(8)) is None
    assert respond(order(kind="update", order_id="T1:4:zjj"), plan, random.Random(8)) is plan


def test_a_reworked_order_is_never_returned() -> None:
    reworked = order(rework_count=1)
    plans = [plan_order(reworked, random.Random(n), habits=Habits(lead_returns=1)) for n in range(50)]
    assert {kinds(p.steps)[0] for p in plans} == {"sign"}


@pytest.mark.parametrize(("seed", "speed"), [(n, speed) for n in range(20) for speed in (1.0, 60.0, 1000.0)])
def test_a_lead_completes_only_after_its_co_units_reported_with_real_time_to_spare(
    seed: int, speed: float
) -> None:
    habits = Habits(lead_returns=0, co_returns=0, asks_extension=0, notes_progress=0, completes_late=0)
    lead = plan_order(order(), random.Random(seed), speed=speed, habits=habits)
    co = plan_order(
        order(unit="baimaqiao", role="co"), random.Random(seed + 1000), speed=speed, habits=habits
    )
    assert kinds(co.steps) == ["sign", "report_part"]
    assert co.steps[-1].at + timedelta(seconds=SETTLE_S) <= lead.steps[-1].at


def _day(jurisdiction: Jurisdiction, seed: int, **shares: Any) -> Day:
    day = Day(jurisdiction, rules_for(jurisdiction), seed=seed, shares=Shares(**shares))
    day.handle(receive_command(APPEAL, "T1", SEWER_TRIAGE, NOW), NOW)
    return day


@pytest.mark.parametrize("seed", range(60))
def test_every_simulated_ticket_ends_closed_or_with_a_person_with_no_command_rejected(
    jurisdiction: Jurisdiction, seed: int
) -> None:
    day = _day(jurisdiction, seed)
    day.run()
    state = day.states["T1"]
    types = Counter(e.type for e in day.log)
    assert types["command_rejected"] == 0
    if state.status == TicketStatus.MANUAL:
        assert types["order_returned"] >= 1  # only when every candidate returned it
        return
    assert (state.status, types["ticket_closed"]) == (TicketStatus.CLOSED, 1)
    assert types["ticket_completed"] == 1 + state.rework_count == 1 + types["ticket_reworked"]
    assert types["extension_requested"] == types["extension_granted"] + types["extension_denied"]
    assert types["callback_recorded"] >= state.rework_count + 1


def test_over_many_tickets_about_85_percent_are_satisfied_or_basically_satisfied(
    jurisdiction: Jurisdiction,
) -> None:
    outcomes: Counter[str] = Counter()
    for seed in range(400):
        day = _day(jurisdiction, seed)
        day.run()
        outcomes.update(e.outcome for e in day.log if e.type == "callback_recorded" and e.final)
    happy = (outcomes["satisfied"] + outcomes["basically_satisfied"]) / sum(outcomes.values())
    assert 0.80 <= happy <= 0.90, outcomes
    assert outcomes["dissatisfied"] > 0 and outcomes["unreachable"] > 0


def test_a_dissatisfied_citizen_gets_rework_and_after_too_many_the_supervisor_judges(
    jurisdiction: Jurisdiction,
) -> None:
    everyone_unhappy = {"satisfied": 0.0, "basically_satisfied": 0.0, "no_comment": 0.0}
    day = _day(jurisdiction, 11, unreachable_first_try=0, **everyone_unhappy)
    day.run()
    types = [e.type for e in day.log]
    assert types.count("ticket_reworked") == 2
    assert types[-2:] == ["demand_judged_unreasonable", "ticket_closed"]
    assert day.states["T1"].resolution == "unreasonable"


def test_every_citizen_of_a_merged_ticket_is_called_back(jurisdiction: Jurisdiction) -> None:
    day = _day(jurisdiction, 2, unreachable_first_try=0)
    other = APPEAL.model_copy(
        update={"source_id": "v2", "caller": Caller(name="李女士", phone="13800001111")}
    )
    day.handle(receive_command(other, "T2", SEWER_TRIAGE, NOW), NOW)
    merge = MergeAppeal(
        command_id="cluster:T2",
        ticket_id="T1",
        issued_at=NOW,
        operator="auto",
        role="system",
        source_ticket_id="T2",
        source_appeal=other,
        score=0.9,
    )
    day.handle(merge, NOW)
    day.run()
    called = [e.citizen for e in day.log if e.type == "callback_recorded" and e.ticket_id == "T1"]
    assert sorted(set(called)) == ["phone:v1", "phone:v2"]
    assert (day.states["T1"].status, day.states["T2"].resolution) == (TicketStatus.CLOSED, "merged")


def test_the_hotline_calls_back_only_completed_tickets_and_each_citizen_once_per_try(
    jurisdiction: Jurisdiction,
) -> None:
    day = _day(jurisdiction, 0)
    assert next_moves(day.states["T1"], day.rng) == ()  # units are at work
    completed = day.states["T1"].model_copy(update={"status": TicketStatus.COMPLETED})
    moves = next_moves(completed, day.rng)
    assert [type(m.command) for m in moves] == [RecordCallback]
    assert moves[0].command.command_id == "hotline:T1:r0:callback:phone:v1:1"
    assert next_moves(completed, day.rng) == moves


@pytest.mark.parametrize("seed", range(20))
def test_a_replay_explains_the_earliest_first_day_and_nothing_with_an_extra_event(
    jurisdiction: Jurisdiction, seed: int
) -> None:
    ran = _day(jurisdiction, seed)
    ran.run()
    history = ran.signatures()
    explained = replay(_day(jurisdiction, seed), history)
    assert explained is not None and explained.signatures() == history
    extra = [*history[:3], history[2], *history[3:]]  # one event twice
    assert replay(_day(jurisdiction, seed), extra) is None


def test_a_replay_explains_two_units_signing_the_other_way_round(jurisdiction: Jurisdiction) -> None:
    ran = _day(jurisdiction, 0)
    ran.run()
    history = ran.signatures()
    signs = [i for i, (kind, _) in enumerate(history) if kind == "order_signed"]
    first, second = signs[0], signs[1]
    assert second == first + 1 and history[first][1] != history[second][1], history
    swapped = [*history[:first], history[second], history[first], *history[second + 1 :]]
    explained = replay(_day(jurisdiction, 0), swapped)
    assert explained is not None and explained.signatures() == swapped


def test_the_decision_on_an_extension_is_the_same_move_after_a_co_unit_returns_its_part(
    jurisdiction: Jurisdiction,
) -> None:
    # The hotline may have sent its decision before it reads a co unit's return: the return
    # must not make it a new decision (a second one is rejected, none is pending any more).
    asked = NOW + timedelta(hours=1)
    pending = PendingExtension(unit="zjj", extra="3wd", reason="需协调施工队", requested_at=asked)
    signed = (
        _day(jurisdiction, 0)
        .states["T1"]
        .model_copy(update={"status": TicketStatus.SIGNED, "pending_extension": pending, "updated_at": asked})
    )
    moves = next_moves(signed, random.Random)
    assert [type(m.command) for m in moves] in ([GrantExtension], [DenyExtension])
    assert moves[0].command.command_id == "hotline:T1:r0:extension:zjj:0"
    returned = signed.model_copy(
        update={"co": (), "returned_by": ("baimaqiao",), "updated_at": asked + timedelta(minutes=5)}
    )
    again = next_moves(returned, random.Random)  # may be later: planned from the latest change
    assert [m.command.model_dump(exclude={"issued_at"}) for m in again] == [
        m.command.model_dump(exclude={"issued_at"}) for m in moves
    ]
