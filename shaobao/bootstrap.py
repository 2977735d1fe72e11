"""The composition root: the one place that builds real components and wires them together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import yaml

from agents import actions, intake, orders, sink, tickets
from domain.jurisdiction import Jurisdiction
from domain.lifecycle.rules import rules_for
from domain.triage import Triager, parse_lexicon
from infra.reference import lexicon_path_for, load_jurisdiction
from infra.store import AsyncpgTicketStore
from infra.topics import TopicSpec, topic_specs
from streams.app import Streams, create_streams
from streams.names import TopicNames
from streams.settings import Settings


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class LoadedReference:
    """The jurisdiction in force and the router built from it."""

    jurisdiction: Jurisdiction
    router: Triager


def load_reference(settings: Settings) -> LoadedReference:
    jurisdiction = load_jurisdiction(settings.jurisdiction_file)
    lexicon_file = lexicon_path_for(settings.jurisdiction_file)
    lexicon = parse_lexicon(yaml.safe_load(lexicon_file.read_text(encoding="utf-8")))
    return LoadedReference(jurisdiction=jurisdiction, router=Triager(jurisdiction, lexicon))


def all_topic_specs(settings: Settings, jurisdiction: Jurisdiction) -> list[TopicSpec]:
    return topic_specs(
        TopicNames(settings.topic_prefix),
        jurisdiction.unit_codes,
        settings.ticket_partitions,
        settings.unit_partitions,
    )


def build_worker(settings: Settings) -> tuple[Streams, AsyncpgTicketStore, LoadedReference]:
    """The Faust app with every agent installed, and the store it writes to."""
    reference = load_reference(settings)
    streams = create_streams(settings, reference.jurisdiction.unit_codes)
    clock = SystemClock()
    store = AsyncpgTicketStore(settings.database_url)
    intake.install(streams, reference, clock)
    tickets.install(streams, clock, rules_for(reference.jurisdiction))
    actions.install(streams, clock)
    orders.install(streams, reference)
    sink.install(streams, store)
    return streams, store, reference
