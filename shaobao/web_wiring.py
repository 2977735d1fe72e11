"""The web process's composition root: the real adapters (PostgreSQL, Kafka, the reference
files) built from the settings and handed to `web.app.create_web_app` as its ports.

Kept apart from `shaobao.bootstrap` (the worker's): the web process does not import Faust.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from zoneinfo import ZoneInfo

from starlette.applications import Starlette

from domain.jurisdiction import Jurisdiction
from domain.reporting import PeriodKind, RateWeights, Report
from domain.triage import Triager
from infra.kafka.action_producer import AiokafkaActionProducer
from infra.kafka.intake_producer import AiokafkaAppealProducer
from infra.kafka.readiness import group_has_members
from infra.kafka.room_feed import AiokafkaRoomFeed
from infra.postgres.desk_queries import AsyncpgCallerHistory
from infra.postgres.kb_store import AsyncpgKbStore, KbIndex
from infra.postgres.ops_queries import AsyncpgOpsQueries
from infra.postgres.order_queries import AsyncpgOrderQueries
from infra.postgres.reports import StoreReports
from infra.postgres.room_queries import AsyncpgRoomQueries
from infra.postgres.room_sessions import AsyncpgRoomSessions
from infra.postgres.store import AsyncpgTicketStore
from infra.postgres.ticket_queries import AsyncpgTicketQueries
from infra.postgres.tokens import AsyncpgTokenStore
from infra.reference import load_configured, load_jurisdiction
from streams.kafka_access import KafkaAccess
from streams.names import TopicNames
from streams.settings import Settings
from web.app import create_web_app
from web.ports import ActionPublisher, AppealPublisher, KbSearcher, RoomPorts, WebPorts


def worker_triager(settings: Settings) -> Triager:
    """The worker's triager: the same files, the same cache (trained once, by whoever is first)."""
    return load_configured(settings, datetime.now(UTC)).router


@dataclass(frozen=True)
class StoreReportSource:
    """`web.ports.ReportSource`: the store's reports over the store's own pool."""

    reports: StoreReports
    store: AsyncpgTicketStore

    @property
    def weights(self) -> RateWeights:
        return self.reports.weights

    async def report(
        self, kind: PeriodKind, day: date | None, now: datetime, weights: RateWeights | None = None
    ) -> Report:
        return await self.reports.report(await self.store.pool(), kind, day, now, weights)


@dataclass(frozen=True)
class StackProbes:
    """`web.ports.StackHealth`: PostgreSQL answers; the pipeline's consumer group has members."""

    store: AsyncpgTicketStore
    kafka: KafkaAccess
    group_id: str

    async def database(self) -> bool:
        return await self.store.ping()

    async def pipeline(self) -> bool:
        return await group_has_members(self.kafka, self.group_id)


def room_ports(settings: Settings, store: AsyncpgTicketStore) -> RoomPorts:
    """The control room's projection reads, its feed of every partition, its sessions and tokens."""
    names = TopicNames(settings.topic_prefix)
    return RoomPorts(
        queries=AsyncpgRoomQueries(store),
        feed=AiokafkaRoomFeed(settings.kafka, names.events, names.alerts, names.app_id),
        sessions=AsyncpgRoomSessions(store),
        tokens=AsyncpgTokenStore(store),
    )


def kb_index(store: AsyncpgKbStore, jurisdiction: Jurisdiction) -> KbIndex:
    zone = ZoneInfo(jurisdiction.timezone)
    return KbIndex(
        store,
        {category.code: category.name for category in jurisdiction.categories},
        today=lambda: datetime.now(zone).date(),  # validity is by the jurisdiction's calendar day
    )


def web_ports(
    settings: Settings,
    appeals: AppealPublisher | None = None,
    actions: ActionPublisher | None = None,
    kb: KbSearcher | None = None,
) -> WebPorts:
    """The real ports, built without any I/O (pools and clients connect when started or first
    used); publishers default to real Kafka, the desk searches `kb` or the store's knowledge base."""
    store = AsyncpgTicketStore(settings.database_url)
    jurisdiction = load_jurisdiction(settings.jurisdiction_file)
    names = TopicNames(settings.topic_prefix)
    kb_entries = AsyncpgKbStore(store)
    store_kb = kb_index(kb_entries, jurisdiction)
    ops = AsyncpgOpsQueries(settings.database_url)
    return WebPorts(
        jurisdiction=jurisdiction,
        room=room_ports(settings, store),
        appeals=appeals or AiokafkaAppealProducer(settings.kafka, names.intake),
        actions=actions or AiokafkaActionProducer(settings.kafka, names),
        tickets=AsyncpgTicketQueries(store),
        orders=AsyncpgOrderQueries(store),
        tokens=AsyncpgTokenStore(store),
        queues=store,
        callers=AsyncpgCallerHistory(store),
        triager=partial(worker_triager, settings),
        kb=store_kb,
        desk_kb=kb if kb is not None else store_kb,
        kb_entries=kb_entries,
        reports=StoreReportSource(StoreReports(jurisdiction), store),
        ops=ops,
        health=StackProbes(store, settings.kafka, names.app_id),
        closing=(store, ops),
    )


def web_app(settings: Settings) -> Starlette:
    """The web app `shaobao web` serves."""
    return create_web_app(settings, web_ports(settings))
