"""The partition balance the scale-out figures report: read from the group's assignments."""

from __future__ import annotations

from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment

from bench.chaos.balance import partitions_per_member


def test_partitions_per_member_counts_one_topics_partitions_in_each_assignment() -> None:
    first = ConsumerProtocolMemberAssignment(0, [("t.intake", [0, 2, 4]), ("t.events", [0, 1])], b"").encode()
    second = ConsumerProtocolMemberAssignment(0, [("t.intake", [1, 3, 5])], b"").encode()
    members = [("w1", first), ("w2", second), ("w3", b"")]
    assert partitions_per_member(members, "t.intake") == {"w1": 3, "w2": 3, "w3": 0}
    assert partitions_per_member(members, "t.events") == {"w1": 2, "w2": 0, "w3": 0}


def test_the_group_is_found_by_id_in_a_describe_answer_and_unknown_without_it() -> None:
    from types import SimpleNamespace

    from bench.chaos.balance import described_group

    assignment = ConsumerProtocolMemberAssignment(0, [("t.intake", [0, 1])], b"").encode()
    answer = [
        SimpleNamespace(
            groups=[
                (0, "other", "Empty", "", "", []),
                (0, "g", "Stable", "consumer", "faust", [("m1", "c", "h", b"", assignment)]),
            ]
        )
    ]
    assert described_group(answer, "g") == ("Stable", [("m1", assignment)])
    assert described_group(answer, "missing") == ("Unknown", [])
