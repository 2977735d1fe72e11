"""The ticket aggregate: commands become events, events fold into state, replays change nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.intake.ids import duplicate_command, receive_command
from domain.ticket.decide import decide
from domain.ticket.fold import FoldError, TicketStatus, fold, replay
from schemas.appeal import Appeal
from schemas.events import TicketDispatched
from schemas.triage import TriageDecision

NOW = datetime(2026, 3, 2, 1, 15, tzinfo=UTC)
APPEAL = Appeal(
    channel="phone", source_id="v1", received_at=NOW, text="玉潭中路垃圾箱破损，请更换。", address="玉潭中路"
)


def triage(**overrides: object) -> TriageDecision:
    base: dict[str, object] = {
        "appeal_type": "help",
        "category": "sanitation.garbage",
        "urgency": "normal",
        "town": "yutan",
        "disposition": "dispatch",
        "lead": "cgj",
        "co": ("yutan",),
        "confidence": 0.9,
    }
    return TriageDecision.model_validate({**base, **overrides})


@pytest.mark.parametrize(
    ("decision", "status", "second_event"),
    [
        (triage(), TicketStatus.DISPATCHED, "ticket_dispatched"),
        (triage(disposition="instant", lead=None, co=()), TicketStatus.INSTANT, "ticket_answered_instantly"),
        (triage(disposition="transfer", transfer_to="119"), TicketStatus.TRANSFERRED, "ticket_transferred"),
        (
            triage(disposition="manual", lead=None, co=()),
            TicketStatus.MANUAL,
            "ticket_queued_for_manual_dispatch",
        ),
    ],
)
def test_a_received_appeal_is_recorded_then_disposed_of_as_triaged(
    decision: TriageDecision, status: TicketStatus, second_event: str
) -> None:
    result = decide(None, receive_command(APPEAL, "T1", decision, NOW), NOW)
    assert [e.type for e in result.events] == ["ticket_received", second_event]
    assert [e.event_id for e in result.events] == ["T1:1", "T1:2"]
    assert result.state is not None and result.state.status == status and result.state.version == 2


def test_dispatch_names_the_lead_and_co_units_of_the_decision() -> None:
    result = decide(None, receive_command(APPEAL, "T1", triage(), NOW), NOW)
    dispatched = result.events[1]
    assert isinstance(dispatched, TicketDispatched)
    assert (dispatched.lead, dispatched.co, dispatched.town) == ("cgj", ("yutan",), "yutan")


def test_the_same_receive_command_processed_again_emits_nothing() -> None:
    command = receive_command(APPEAL, "T1", triage(), NOW)
    first = decide(None, command, NOW)
    again = decide(first.state, command, NOW)
    assert again.events == () and again.state == first.state


def test_a_duplicate_intake_record_is_counted_once_per_record() -> None:
    state = decide(None, receive_command(APPEAL, "T1", triage(), NOW), NOW).state
    dup = duplicate_command(APPEAL, "T1", partition=3, offset=17, now=NOW)
    once = decide(state, dup, NOW)
    twice = decide(once.state, dup, NOW)
    assert [e.type for e in once.events] == ["duplicate_received"]
    assert twice.events == ()
    assert twice.state is not None and twice.state.duplicates == 1 and twice.state.version == 3


def test_a_second_receive_for_an_existing_ticket_is_rejected_and_changes_nothing_but_the_count() -> None:
    state = decide(None, receive_command(APPEAL, "T1", triage(), NOW), NOW).state
    other = receive_command(APPEAL.model_copy(update={"source_id": "v2"}), "T1", triage(), NOW)
    result = decide(state, other, NOW)
    assert [e.type for e in result.events] == ["command_rejected"]
    assert result.rejected[0].reason == "ticket already exists"
    assert result.state is not None and state is not None
    assert (result.state.status, result.state.lead, result.state.rejected_commands) == (
        state.status,
        "cgj",
        1,
    )


def test_replaying_the_log_rebuilds_exactly_the_state() -> None:
    first = decide(None, receive_command(APPEAL, "T1", triage(), NOW), NOW)
    second = decide(first.state, duplicate_command(APPEAL, "T1", 0, 9, NOW), NOW)
    assert replay([*first.events, *second.events]) == second.state


def test_folding_an_event_out_of_order_is_an_error() -> None:
    events = decide(None, receive_command(APPEAL, "T1", triage(), NOW), NOW).events
    with pytest.raises(FoldError):
        fold(None, events[1])
    state = fold(None, events[0])
    with pytest.raises(FoldError):
        fold(fold(state, events[1]), events[1])
