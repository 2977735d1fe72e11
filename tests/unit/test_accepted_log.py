"""Which records of `tickets.events` the store holds (`domain.ticket.consistency.accepted_log`): the
rule the sink and `shaobao verify` share, so a broken writer's event is a dead letter to one
and no difference to the other."""

from __future__ import annotations

from domain.ticket import accepted_log, folded_tickets
from domain.ticket.fold import replay
from domain.ticket.lifecycle.rules import DEFAULT_RULES
from schemas.commands import SignOrder
from tests.unit.lifecycle_desk import MONDAY, Desk, hours


def ticket(ticket_id: str = "20260302-01-000001") -> Desk:
    desk = Desk(DEFAULT_RULES, ticket_id)
    return desk.unit(SignOrder, MONDAY + hours(1))


def test_a_clean_log_is_held_whole_and_folds_to_the_ticket() -> None:
    desk = ticket()
    held, refused = accepted_log(desk.events)
    assert (held, refused) == (desk.events, [])
    assert replay(held) == desk.state


def test_a_producer_retry_is_one_event_and_an_unequal_copy_is_refused() -> None:
    desk = ticket()
    first, second, third = desk.events
    unequal = second.model_copy(update={"command_id": "forged"})
    held, refused = accepted_log([first, second, second, unequal, third])
    assert held == [first, second, third]
    assert [(e, why) for e, why in refused] == [(unequal, "version 2 again, unlike the one held")]


def test_a_gap_a_wrong_first_event_and_what_follows_them_are_refused_and_the_rest_held() -> None:
    desk = ticket()
    first, second, third = desk.events
    ahead = third.model_copy(update={"version": 9, "event_id": f"{third.ticket_id}:9"})
    held, refused = accepted_log([second, first, ahead, second, third])
    assert held == [first, second, third]
    assert [e.version for e, _ in refused] == [2, 9]
    assert "first event is" in refused[0][1] and "version 9 after 1" in refused[1][1]


def test_folded_tickets_keeps_each_ticket_apart_in_log_order() -> None:
    one, two = ticket("20260302-01-000001"), ticket("20260302-02-000002")
    interleaved = [e for pair in zip(one.events, two.events, strict=True) for e in pair]
    states, held, refused = folded_tickets(interleaved)
    assert states == {one.ticket_id: one.state, two.ticket_id: two.state}
    assert sorted(held, key=lambda e: e.event_id) == sorted(interleaved, key=lambda e: e.event_id)
    assert refused == []
