"""Recognising what became of a replayed intake record from the intake agent's outputs."""

from __future__ import annotations

import json

from infra.kafka.replay_watch import Outcome, outcome_of

INTAKE = "p.appeals.intake"
WANTED = {(3, 120), (0, 7)}


def test_a_receive_command_whose_ticket_id_ends_with_the_position_is_a_new_ticket() -> None:
    value = json.dumps(
        {"type": "receive_appeal", "command_id": "intake:phone:a", "ticket_id": "20260302-03-000120"}
    )
    assert outcome_of("commands", value.encode(), INTAKE, WANTED) == (
        (3, 120),
        Outcome("ticket", "20260302-03-000120"),
    )


def test_a_duplicate_command_names_the_position_in_its_id() -> None:
    value = json.dumps({"type": "record_duplicate", "command_id": "duplicate:phone:a:0:7", "ticket_id": "T1"})
    assert outcome_of("commands", value.encode(), INTAKE, WANTED) == ((0, 7), Outcome("duplicate", "T1"))


def test_a_rejection_of_the_replayed_record_has_the_positions_id() -> None:
    value = json.dumps({"rejection_id": f"{INTAKE}:3:120", "reason": "invalid_json", "message": "bad"})
    found = outcome_of("rejected", value.encode(), INTAKE, WANTED)
    assert found == ((3, 120), Outcome("rejected", f"{INTAKE}:3:120 (invalid_json: bad)"))


def test_other_records_answer_nothing() -> None:
    other = {"type": "receive_appeal", "command_id": "intake:phone:b", "ticket_id": "20260302-03-001120"}
    assert outcome_of("commands", json.dumps(other).encode(), INTAKE, WANTED) is None
    assert (
        outcome_of("rejected", json.dumps({"rejection_id": f"{INTAKE}:3:12"}).encode(), INTAKE, WANTED)
        is None
    )
    assert outcome_of("commands", b"not json", INTAKE, WANTED) is None
    assert outcome_of("commands", b"[1]", INTAKE, WANTED) is None
