"""The Faust app's declarations agree with the topics the project creates for it."""

from __future__ import annotations

from infra.kafka.topics import topic_specs
from streams.app import create_streams
from streams.names import TABLES, TopicNames
from streams.settings import Settings


def test_every_table_of_the_app_has_its_changelog_created_up_front() -> None:
    streams = create_streams(Settings(topic_prefix="w."))
    assert set(streams.app.tables.keys()) == set(TABLES)
    specs = {spec.name: spec for spec in topic_specs(TopicNames("w."), ["cgj"], 6, 3)}
    for table in TABLES:
        spec = specs[f"w.shaobao-{table}-changelog"]
        assert (spec.partitions, spec.config) == (6, {"cleanup.policy": "compact"})
    assert specs["w.shaobao-__assignor-__leader"].partitions == 1


def test_the_contract_topics_have_explicit_partitions_and_retention() -> None:
    specs = {spec.name: spec for spec in topic_specs(TopicNames(""), ["cgj", "yutan"], 6, 3)}
    assert specs["tickets.events"].config == {"cleanup.policy": "delete", "retention.ms": "-1"}
    assert specs["appeals.rejected"].config["retention.ms"] == "-1"
    assert specs["dead.letters"].config == {"cleanup.policy": "delete", "retention.ms": "-1"}
    assert {specs[name].partitions for name in ("appeals.intake", "tickets.commands", "tickets.events")} == {
        6
    }
    assert specs["units.cgj.orders"].partitions == specs["units.yutan.actions"].partitions == 3
    assert specs["config.reference"].partitions == 1
    assert specs["config.reference"].config == {"cleanup.policy": "compact"}
    assert specs["tickets.clusters"].partitions == 6
    assert len(specs) == 8 + len(TABLES) + 1 + 2 * 2


class Store:
    """Never written to: the agents are only installed."""

    async def record_rejections(self, rejections: object) -> int:
        raise AssertionError("not expected")

    async def record_dead_letters(self, letters: object) -> int:
        raise AssertionError("not expected")


def test_every_agent_installs_on_the_topics_it_reads() -> None:
    from agents import actions, clusters, intake, orders, sink, tickets, timers
    from shaobao.bootstrap import SystemClock

    streams, clock, unused = (
        create_streams(Settings(topic_prefix="w."), ["cgj", "zjj"]),
        SystemClock(),
        object(),
    )
    intake.install(streams, unused, clock)  # type: ignore[arg-type]
    tickets.install(streams, clock)
    actions.install(streams, clock)
    orders.install(streams, unused, clock)  # type: ignore[arg-type]
    clusters.install(streams, unused, clock)  # type: ignore[arg-type]
    sink.install(streams, unused, clock)  # type: ignore[arg-type]
    sink.install_rejections(streams, Store(), clock)
    sink.install_dead_letters(streams, Store(), clock)
    timers.install(streams, clock)
    read = {name: sorted(agent.get_topic_names()) for name, agent in streams.app.agents.items()}
    events = ["w.tickets.events"]
    assert read == {
        "take_in_appeals": ["w.appeals.intake"],
        "handle_ticket_commands": ["w.tickets.commands"],
        "take_in_unit_actions": ["w.units.cgj.actions", "w.units.zjj.actions"],
        "fan_out_work_orders": events,
        "signal_clusters": events,
        "detect_clusters": ["w.tickets.clusters"],
        "record_ticket_events": events,
        "record_rejections": ["w.appeals.rejected"],
        "record_dead_letters": ["w.dead.letters"],
        "index_ticket_clocks": events,
    }
