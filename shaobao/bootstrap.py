"""The composition root: the one place that builds real components and wires them together."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from agents import actions, clusters, intake, meeting_list, orders, sink, tickets, timers
from agents import reference as hot_reload
from agents.ops_monitor import POLL_INTERVAL_S
from domain.jurisdiction import Jurisdiction
from domain.ops import LagThresholds
from domain.ticket.lifecycle.rules import LifecycleRules, rules_for
from domain.time_limits import LimitPolicy, WorkingCalendar
from infra.examples import DEFAULT_EXAMPLE_FILES, read_examples
from infra.holidays import national_holidays
from infra.kafka.event_log import KafkaTicketLog
from infra.kafka.reference_feed import KafkaReferenceFeed
from infra.kafka.topics import TopicSpec, topic_specs
from infra.postgres.meeting_list import AsyncpgMeetingLists
from infra.postgres.metered_store import MeteredTicketEventStore
from infra.postgres.store import AsyncpgTicketStore
from infra.reference import (
    BuiltReference,
    build_reference,
    decode_published,
    load_configured,
)
from infra.triager_cache import TriagerCache
from shaobao.observability import install_ops
from streams import guaranteed_producer, liveness, rebalance
from streams.app import Streams, create_streams
from streams.names import TopicNames
from streams.settings import Settings

log = logging.getLogger(__name__)


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


# The jurisdiction in force, the router built from it and their version (a digest of both files).
LoadedReference = BuiltReference


def triager_cache(settings: Settings) -> TriagerCache:
    return TriagerCache.under(settings.cache_dir)


def all_topic_specs(settings: Settings, jurisdiction: Jurisdiction) -> list[TopicSpec]:
    return topic_specs(
        TopicNames(settings.topic_prefix),
        jurisdiction.unit_codes,
        settings.ticket_partitions,
        settings.unit_partitions,
    )


def build_worker(
    settings: Settings,
    lag_poll_interval_s: float = POLL_INTERVAL_S,
    lag_thresholds: LagThresholds | None = None,
) -> tuple[Streams, AsyncpgTicketStore, LoadedReference]:
    """The Faust app with every agent installed, metered, serving /metrics, /health and /ready
    on its web port, and the store it writes to."""
    examples = read_examples(DEFAULT_EXAMPLE_FILES)
    reference = load_configured(settings, SystemClock().now(), examples)
    streams = create_streams(settings, reference.jurisdiction.unit_codes)
    rebalance.install(streams.app)  # Faust's consumer, mended: no record lost, no hang (issue 13)
    guaranteed_producer.install(streams.app)  # acks from every in-sync replica, idempotence
    clock = SystemClock()
    # The store loads the units and towns; a ticket's events it lacks it re-reads from the log.
    ticket_log = KafkaTicketLog(settings.kafka, streams.names.events, settings.ticket_partitions)
    store = AsyncpgTicketStore(settings.database_url, reference.jurisdiction, ticket_log)
    # Hot reload: routing, lexicon and places follow `config.reference`; time limits stay as started.
    holder = hot_reload.ReferenceHolder(reference)
    feed = KafkaReferenceFeed(settings.kafka, streams.names.reference)

    def build(value: bytes) -> hot_reload.Reference:
        # The version in force (the files the worker started from, or the last record) is not
        # built again: training the triager takes seconds of CPU a starting worker needs.
        published = decode_published(value)  # a record that is no reference: ReferenceInvalid
        if published.version == holder.current.version:
            return holder.current
        return build_reference(published, examples, triager_cache(settings))

    hot_reload.install(streams, holder, feed, build, clock)
    intake.install(streams, holder, clock)
    tickets.install(streams, clock, timing_rules(reference.jurisdiction, clock))
    actions.install(streams, clock)
    orders.install(streams, holder, clock)
    if settings.auto_merge:
        clusters.install(streams, holder, clock)  # 多人反映 merged, 重复来电 marked
    metered_store = MeteredTicketEventStore(store)  # batch sizes, write time, PostgreSQL errors
    sink.install(streams, metered_store, clock)
    sink.install_rejections(streams, store, clock)
    sink.install_dead_letters(streams, store, clock)
    timers.install(streams, clock)
    meeting_list.install(
        streams, AsyncpgMeetingLists(store.pool, reference.jurisdiction), reference.jurisdiction, clock
    )
    install_ops(streams, settings, clock, metered_store, lag_poll_interval_s, lag_thresholds)
    liveness.install(streams.app)  # names the agent and partition that sits idle, and why
    return streams, store, reference


def timing_rules(jurisdiction: Jurisdiction, clock: SystemClock) -> LifecycleRules:
    """The lifecycle's rules with the time limits on the working calendar.

    A year the national holiday data does not cover falls back to weekends only: said
    here, loudly, at start-up, for this year and the next (limits run up to weeks ahead).
    """
    calendar = WorkingCalendar.for_jurisdiction(jurisdiction, national_holidays())
    now = clock.now()
    uncovered = calendar.uncovered_years(now, now + timedelta(days=366))
    if uncovered:
        log.warning(
            "the holiday data (%s) does not cover %s: time limits there count weekends only; "
            "upgrade chinese-calendar once the State Council's notice is out",
            calendar.holiday_source,
            ", ".join(map(str, uncovered)),
        )
    return replace(rules_for(jurisdiction), limits=LimitPolicy(jurisdiction, calendar))
