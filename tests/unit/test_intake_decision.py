"""The intake's decision on one record (domain.intake.decision.take_in): reject, re-route, open a
ticket, note a duplicate; exact outcomes, no broker and no table, only what the agent would pass."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.intake.decision import Admit, Arrival, IntakeOutcome, Reject, Reroute, take_in
from schemas.appeal import Appeal
from schemas.commands import ReceiveAppeal, RecordDuplicate
from schemas.triage import TriageDecision
from tests.fakes import RecordingRouter

NOW = datetime(2026, 3, 2, 1, 15, tzinfo=UTC)
APPEAL = Appeal(
    channel="web", source_id="w-1", received_at=datetime(2026, 3, 1, 17, 0, tzinfo=UTC), text="路灯坏了"
)
ROUTED = TriageDecision(
    appeal_type="complaint",
    category="lighting",
    urgency="normal",
    town="yutan",
    disposition="dispatch",
    lead="cgj",
    confidence=0.8,
)
OWN = "20260302-03-000123"  # 17:00 UTC is 2 March in Asia/Shanghai; partition 3, offset 123
OTHER = "20260301-01-000007"


ZONE = "Asia/Shanghai"


def arrival(home: int = 3) -> Arrival:
    return Arrival(partition=3, offset=123, home_of=lambda key: home)


def opened(ticket_id: str) -> ReceiveAppeal:
    return ReceiveAppeal(
        command_id="intake:web:w-1", ticket_id=ticket_id, issued_at=NOW, appeal=APPEAL, triage=ROUTED
    )


DUPLICATE = RecordDuplicate(
    command_id="duplicate:web:w-1:3:123", ticket_id=OTHER, issued_at=NOW, appeal=APPEAL
)


@pytest.mark.parametrize(
    ("case", "read", "known", "home", "outcome", "routed"),
    [
        ("new", APPEAL, None, 3, Admit(opened(OWN), "web:w-1", OWN), 1),
        ("this record again after a crash", APPEAL, OWN, 3, Admit(opened(OWN), "web:w-1", None), 1),
        ("a repeat of a known appeal", APPEAL, OTHER, 3, Admit(DUPLICATE, "web:w-1", None), 0),
        ("on another partition than its key's", APPEAL, None, 5, Reroute("web:w-1", 5), 0),
        ("a repeat on the wrong partition", APPEAL, OTHER, 0, Reroute("web:w-1", 0), 0),
        (
            "invalid",
            Reject("invalid_json", "invalid JSON: Expecting value at line 1 col 1"),
            None,
            3,
            Reject("invalid_json", "invalid JSON: Expecting value at line 1 col 1"),
            0,
        ),
    ],
)
def test_the_intake_decides_each_record_by_its_appeal_its_key_s_ticket_and_its_partition(
    case: str,
    read: Appeal | Reject,
    known: str | None,
    home: int,
    outcome: IntakeOutcome,
    routed: int,
) -> None:
    router = RecordingRouter(ROUTED)
    asked: list[str] = []

    def seen(key: str) -> str | None:
        asked.append(key)
        return known

    assert take_in(read, seen, arrival(home), router.decide, ZONE, NOW) == outcome, case
    assert len(router.routed) == routed  # triage runs only for a ticket to open
    # The seen keys are looked up on the key's own partition only, where they are kept.
    assert asked == (["web:w-1"] if isinstance(outcome, Admit) else [])


def test_an_admitted_appeal_is_keyed_by_its_ticket_and_remembered_under_its_intake_key() -> None:
    outcome = take_in(APPEAL, lambda key: None, arrival(), RecordingRouter(ROUTED).decide, ZONE, NOW)
    assert isinstance(outcome, Admit)
    assert (outcome.command.ticket_id, outcome.intake_key, outcome.remember) == (OWN, "web:w-1", OWN)
