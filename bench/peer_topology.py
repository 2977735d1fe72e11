"""The peer's names and settings, shared by the bench (bench/peer.py, the project's interpreter)
and the peer itself (bench/peer_quix.py, its own virtualenv): the standard library only."""

from __future__ import annotations

# As the Shaobao worker (Faust, `broker_commit_interval=1.0`, offsets after the producer flush).
COMMIT_INTERVAL_S = 1.0
PROCESSING_GUARANTEE = "at-least-once"


def topic_names(prefix: str) -> dict[str, str]:
    """The peer's own topics and consumer group, under the run's prefix."""
    return {
        "intake": f"{prefix}peer.intake",
        "commands": f"{prefix}peer.commands",
        "orders": f"{prefix}peer.orders",
        "group": f"{prefix}peer-quix",
    }
