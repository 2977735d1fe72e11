"""The peer in `make bench`: Shaobao's minimal topology written with quixstreams (RocksDB state).

Run by bench/peer.py as `python -m bench.peer_quix --prefix P --state-dir DIR` with the
interpreter of its own virtualenv (`make bench` makes it: quixstreams pins a pydantic older
than the project's, so the two never share one), a process of its own like the Shaobao
worker. It imports nothing but the standard library and quixstreams: the Kafka access comes
as librdkafka properties (JSON) in `PEER_KAFKA_PROPERTIES`. Two stages, as in the worker and
without its domain logic:

1. `P.peer.intake` (keyed by the intake key `channel:source_id`): a dedupe state per key;
   the first appeal gets a ticket id and a `receive` command, a later one a `duplicate`
   command for the ticket it already has; both go to `P.peer.commands` keyed by ticket id.
2. `P.peer.commands`: a ticket state per ticket id; a `receive` stores the ticket and emits
   one work order to `P.peer.orders`, a `duplicate` is counted on the stored ticket.

At-least-once with a 1 s commit interval, like the worker (Faust, `broker_commit_interval=1.0`).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from quixstreams import Application, State, message_context
from quixstreams.kafka import ConnectionConfig

from bench.peer_topology import COMMIT_INTERVAL_S, PROCESSING_GUARANTEE, topic_names


def connection(properties: dict[str, str]) -> ConnectionConfig:
    """librdkafka settings (bootstrap.servers, security.protocol, sasl.mechanisms, sasl.username…)."""
    return ConnectionConfig.from_librdkafka_dict(properties)


def take_in(appeal: dict[str, Any], state: State[str, Any]) -> list[dict[str, Any]]:
    """Dedupe by intake key: a `receive` the first time, a `duplicate` for its ticket after.

    The ticket id is the record's position, so a record read again after a crash (its offset
    not committed, its state kept) gets the same id and the same command, as in the worker."""
    context = message_context()
    own = f"{context.partition}-{context.offset}"
    known: str | None = state.get("ticket_id")
    intake_key = f"{appeal['channel']}:{appeal['source_id']}"
    if known is not None and known != own:
        return [{"kind": "duplicate", "ticket_id": known, "intake_key": intake_key}]
    if known is None:
        state.set("ticket_id", own)
    return [{"kind": "receive", "ticket_id": own, "intake_key": intake_key, "appeal": appeal}]


def fold(command: dict[str, Any], state: State[str, Any]) -> list[dict[str, Any]]:
    """Keep the ticket; one work order when it is first received, none for a duplicate or a replay."""
    ticket: dict[str, Any] | None = state.get("ticket")
    if command["kind"] == "duplicate":
        if ticket is not None:
            state.set("ticket", {**ticket, "duplicates": ticket["duplicates"] + 1})
        return []
    if ticket is not None:
        return []  # the same `receive` again after a crash: the order went out already
    appeal = command["appeal"]
    state.set("ticket", {"ticket_id": command["ticket_id"], "appeal": appeal, "duplicates": 0})
    return [
        {
            "ticket_id": command["ticket_id"],
            "intake_key": command["intake_key"],
            "role": "lead",
            "received_at": appeal.get("received_at"),
            "address": appeal.get("address"),
            "text": appeal.get("text"),
        }
    ]


def build(properties: dict[str, str], prefix: str, state_dir: Path) -> Application:
    """The application: two stateful stages joined by the commands topic (keyed by ticket id)."""
    names = topic_names(prefix)
    app = Application(
        broker_address=connection(properties),
        consumer_group=names["group"],
        auto_offset_reset="earliest",
        commit_interval=COMMIT_INTERVAL_S,
        processing_guarantee=PROCESSING_GUARANTEE,
        state_dir=state_dir,
        loglevel="INFO",
    )
    intake = app.topic(names["intake"], key_deserializer="str", value_deserializer="json")
    commands = app.topic(
        names["commands"],
        key_serializer="str",
        value_serializer="json",
        key_deserializer="str",
        value_deserializer="json",
    )
    orders = app.topic(names["orders"], key_serializer="str", value_serializer="json")
    app.dataframe(intake).apply(take_in, stateful=True, expand=True).to_topic(
        commands, key=lambda command: command["ticket_id"]
    )
    app.dataframe(commands).apply(fold, stateful=True, expand=True).to_topic(
        orders, key=lambda order: order["ticket_id"]
    )
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prefix", required=True, help="the run's topic prefix")
    parser.add_argument("--state-dir", type=Path, required=True, help="RocksDB state directory")
    args = parser.parse_args()
    properties = json.loads(os.environ["PEER_KAFKA_PROPERTIES"])
    # Runs until SIGTERM: quixstreams then commits its checkpoint and closes the stores.
    build(properties, args.prefix, args.state_dir).run()


if __name__ == "__main__":
    main()
