"""The rates (响应率、办结率、按期办结率、解决率、满意率 …) from tickets driven through the real
lifecycle (`domain.ticket.decide`, with the jurisdiction's limits on the working calendar)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from domain.jurisdiction import Jurisdiction
from domain.reporting import PeriodKind, period_for
from domain.reporting.facts import TicketFacts, ticket_facts
from domain.reporting.rates import RateWeights, rates_by, rates_by_unit, rates_of
from domain.ticket.lifecycle.rules import LifecycleRules
from domain.time_limits import WorkingCalendar
from schemas.commands import (
    CompleteTicket,
    GrantExtension,
    RecordCallback,
    RedispatchTicket,
    RequestExtension,
    ReturnOrder,
    ReworkTicket,
    SignOrder,
)
from tests.unit.lifecycle_desk import MONDAY, Desk, calendar_for, hours, rules_with_limits


@pytest.fixture(scope="module")
def calendar(jurisdiction: Jurisdiction) -> WorkingCalendar:
    return calendar_for(jurisdiction)


@pytest.fixture(scope="module")
def rules(jurisdiction: Jurisdiction, calendar: WorkingCalendar) -> LifecycleRules:
    return rules_with_limits(jurisdiction, calendar)


def facts(
    desk: Desk, calendar: WorkingCalendar, as_of: datetime = MONDAY + timedelta(days=30)
) -> TicketFacts:
    found = ticket_facts(desk.events, as_of, calendar)
    assert found is not None
    return found


def test_a_ticket_signed_and_completed_in_time_and_satisfied_counts_in_every_numerator(
    rules: LifecycleRules, calendar: WorkingCalendar
) -> None:
    desk = (
        Desk(rules, "T-good")
        .unit(SignOrder, MONDAY + hours(1))
        .unit(CompleteTicket, MONDAY + hours(6), reply="已更换")
    )
    desk.control(RecordCallback, MONDAY + hours(30), outcome="satisfied")
    fact = facts(desk, calendar)
    assert (fact.signed_in_time, fact.completed_on_time, fact.overdue, fact.lead) == (
        True,
        True,
        False,
        "cgj",
    )
    # 09:15 to 15:15 on a working Monday: 09:15-12:00 and 13:30-15:15 is 4.5 working hours.
    assert fact.handling_s == pytest.approx(4.5 * 3600)
    rates = rates_of([fact])
    assert (rates.response_rate, rates.completion_rate, rates.on_time_rate) == (1.0, 1.0, 1.0)
    assert (rates.solved_rate, rates.satisfaction_rate, rates.average_handling_hours) == (1.0, 1.0, 4.5)


def test_a_late_signature_and_a_completion_past_the_limit_are_not_in_time_and_overdue(
    rules: LifecycleRules, calendar: WorkingCalendar
) -> None:
    # Sign limit 2wh: by 11:15. Signed at 15:15 is late; 5wd ends Monday next week at 09:15.
    desk = Desk(rules, "T-late").unit(SignOrder, MONDAY + hours(6))
    desk.unit(CompleteTicket, MONDAY + timedelta(days=8), reply="已处理")
    fact = facts(desk, calendar)
    assert (fact.signed_in_time, fact.completed_on_time, fact.overdue) == (False, False, True)
    assert rates_of([fact]).on_time_rate == 0.0


def test_a_granted_extension_moves_the_limit_so_a_later_completion_is_on_time(
    rules: LifecycleRules, calendar: WorkingCalendar
) -> None:
    desk = Desk(rules, "T-ext").unit(SignOrder, MONDAY + hours(1))
    desk.unit(RequestExtension, MONDAY + hours(2), extra="3wd", reason="需协调施工")
    desk.control(GrantExtension, MONDAY + hours(3))
    desk.unit(CompleteTicket, MONDAY + timedelta(days=8), reply="已处理")  # Tuesday next week, within 8wd
    fact = facts(desk, calendar)
    assert (fact.completed_on_time, fact.overdue) == (True, False)


def test_an_open_ticket_past_its_limit_at_the_report_instant_is_overdue_and_not_before(
    rules: LifecycleRules, calendar: WorkingCalendar
) -> None:
    desk = Desk(rules, "T-open").unit(SignOrder, MONDAY + hours(1))
    assert facts(desk, calendar, as_of=MONDAY + timedelta(days=2)).overdue is False
    assert facts(desk, calendar, as_of=MONDAY + timedelta(days=10)).overdue is True
    assert rates_of([facts(desk, calendar)]).completion_rate == 0.0


def test_rework_starts_a_new_callback_round_and_counts_against_the_lead(
    rules: LifecycleRules, calendar: WorkingCalendar
) -> None:
    desk = (
        Desk(rules, "T-rework")
        .unit(SignOrder, MONDAY + hours(1))
        .unit(CompleteTicket, MONDAY + hours(2), reply="已处理")
    )
    desk.control(RecordCallback, MONDAY + hours(24), outcome="dissatisfied", solved=False)
    desk.control(ReworkTicket, MONDAY + hours(25), reason="垃圾箱仍未更换")
    desk.unit(SignOrder, MONDAY + hours(26)).unit(CompleteTicket, MONDAY + hours(27), reply="已更换新箱")
    desk.control(RecordCallback, MONDAY + hours(48), outcome="basically_satisfied", solved=True)
    fact = facts(desk, calendar)
    assert fact.reworks == 1 and [(c.outcome, c.solved) for c in fact.callbacks] == [
        ("basically_satisfied", True)
    ]
    assert fact.completed_on_time is True  # the first completion, by its limit
    rates = rates_of([fact], RateWeights(basically_satisfied=0.5))
    assert (rates.reworks, rates.reached, rates.solved, rates.satisfaction_rate) == (1, 1, 1, 0.5)


def test_a_return_counts_against_the_unit_that_returned_and_the_ticket_against_the_new_lead(
    rules: LifecycleRules, calendar: WorkingCalendar
) -> None:
    desk = Desk(rules, "T-ret").unit(
        ReturnOrder, MONDAY + hours(1), reason_code="not_our_duty", reason="不属本单位"
    )
    desk.control(RedispatchTicket, MONDAY + hours(2), lead="zjj", reason="改派住建局")
    desk.unit(SignOrder, MONDAY + hours(3), unit="zjj")
    by_unit = rates_by_unit([facts(desk, calendar)])
    assert (by_unit["cgj"].dispatched, by_unit["cgj"].returns) == (0, 1)
    assert (by_unit["zjj"].dispatched, by_unit["zjj"].returns, by_unit["zjj"].signed_in_time) == (1, 0, 1)
    assert rates_of([facts(desk, calendar)]).returns == 1


def test_satisfaction_leaves_out_no_comment_and_unreachable_and_weighs_basically_satisfied(
    rules: LifecycleRules, calendar: WorkingCalendar
) -> None:
    outcomes = ["satisfied", "basically_satisfied", "no_comment", "dissatisfied"]
    found = []
    for n, outcome in enumerate(outcomes):
        desk = (
            Desk(rules, f"T-sat{n}")
            .unit(SignOrder, MONDAY + hours(1))
            .unit(CompleteTicket, MONDAY + hours(2), reply="好")
        )
        desk.control(RecordCallback, MONDAY + hours(24), outcome=outcome)
        found.append(facts(desk, calendar))
    full, half = rates_of(found), rates_of(found, RateWeights(basically_satisfied=0.5))
    assert (full.reached, full.no_comment, full.satisfied, full.dissatisfied) == (4, 1, 1, 1)
    assert full.satisfaction_rate == pytest.approx(2 / 3)
    assert half.satisfaction_rate == pytest.approx(1.5 / 3)
    # With no separate answer, satisfied and basically satisfied count as solved.
    assert full.solved_rate == pytest.approx(2 / 4)


def test_rates_group_by_category_and_town_and_a_rate_with_nothing_to_divide_is_none(
    rules: LifecycleRules, calendar: WorkingCalendar
) -> None:
    one = facts(Desk(rules, "T-a", "sanitation.garbage"), calendar)
    two = facts(Desk(rules, "T-b", "drainage.sewer", "zjj"), calendar)
    by_category = rates_by([one, two], lambda f: f.category)
    assert {k: v.dispatched for k, v in by_category.items()} == {"drainage.sewer": 1, "sanitation.garbage": 1}
    assert rates_by([one, two], lambda f: f.town)["yutan"].dispatched == 2
    assert (by_category["drainage.sewer"].on_time_rate, by_category["drainage.sewer"].satisfaction_rate) == (
        None,
        None,
    )


def test_events_after_the_report_instant_are_not_seen_and_duplicates_count_once(
    rules: LifecycleRules, calendar: WorkingCalendar
) -> None:
    desk = (
        Desk(rules, "T-asof")
        .unit(SignOrder, MONDAY + hours(1))
        .unit(CompleteTicket, MONDAY + hours(30), reply="好")
    )
    before = ticket_facts([*desk.events, *desk.events], MONDAY + hours(2), calendar)
    assert before is not None and before.completed_at is None and before.status == "signed"


@pytest.mark.parametrize(
    ("kind", "day", "first", "last", "label"),
    [
        (PeriodKind.DAILY, "2026-03-02", "2026-03-02", "2026-03-02", "2026年3月2日"),
        (PeriodKind.WEEKLY, "2026-03-04", "2026-03-02", "2026-03-08", "2026年第10周（3月2日—3月8日）"),
        (PeriodKind.TENDAY, "2026-03-15", "2026-03-11", "2026-03-20", "2026年3月中旬"),
        (PeriodKind.TENDAY, "2026-02-25", "2026-02-21", "2026-02-28", "2026年2月下旬"),
        (PeriodKind.MONTHLY, "2026-12-31", "2026-12-01", "2026-12-31", "2026年12月"),
    ],
)
def test_report_periods_are_local_days_weeks_ten_days_and_months(
    kind: PeriodKind, day: str, first: str, last: str, label: str
) -> None:
    period = period_for(kind, date.fromisoformat(day), "Asia/Shanghai")
    assert (period.first.isoformat(), period.last.isoformat(), period.label) == (first, last, label)
    assert period.start_at == datetime.fromisoformat(f"{first}T00:00:00+08:00")
    assert period.previous().last == period.first - timedelta(days=1)
