"""The roles the HTTP front doors depend on, and the errors they raise; the composition root
(`shaobao.web_wiring`) builds the real ones and hands them to `web.app.create_web_app` as `WebPorts`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, Protocol

from domain.access import Principal
from domain.jurisdiction import Jurisdiction
from domain.open311 import RequestQuery
from domain.reporting import PeriodKind, RateWeights, Report
from domain.room import RoomTicket
from domain.ticket import TicketState
from domain.triage import Triager
from schemas.actions import UnitAction
from schemas.appeal import Appeal
from schemas.commands import ControlCommand
from schemas.dead_letters import DeadLetter
from schemas.kb import KbEntry, KbMatch


class IntakeUnavailable(Exception):
    """The appeal could not be handed to `appeals.intake` now; the client retries (same source_id)."""


class AppealPublisher(Protocol):
    """Hands an appeal to `appeals.intake` and returns once the broker has acknowledged it."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, appeal: Appeal) -> None:
        """Raises `IntakeUnavailable` when the broker does not take it."""
        ...


class TicketReader(Protocol):
    """Tickets as the pipeline recorded them. Raises `agents.ports.StoreUnavailable`."""

    async def by_ticket_id(self, ticket_id: str) -> TicketState | None: ...

    async def by_intake_key(self, channel: str, source_id: str) -> TicketState | None: ...

    async def find(self, query: RequestQuery) -> list[TicketState]: ...


class KbSearcher(Protocol):
    """The knowledge base searched with an appeal's words, best first (`domain.kb.search`).
    Raises `agents.ports.StoreUnavailable` when the entries cannot be (re)loaded."""

    async def search(self, text: str, limit: int = 5) -> tuple[KbMatch, ...]: ...


@dataclass(frozen=True)
class CallerTicket:
    """One ticket of a caller's history, as the store recorded it (codes, not names)."""

    ticket_id: str
    received_at: datetime
    category: str
    status: str
    satisfaction: str | None
    last_callback: str | None  # the outcome of the last callback attempt, if any


class CallerHistory(Protocol):
    """A caller's tickets by the digits of their number, newest first. Raises
    `agents.ports.StoreUnavailable`."""

    async def by_phone(self, digits: str, limit: int = 20) -> list[CallerTicket]: ...


KbChange = Literal["created", "updated", "retired", "imported"]
KbWrite = Literal["created", "updated", "unchanged"]


class PublishUnavailable(Exception):
    """Kafka did not acknowledge the record; the client retries the same request (same ids)."""


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> Principal | None:
        """The holder of an active token, None otherwise. Raises `agents.ports.StoreUnavailable`."""
        ...


class ActionPublisher(Protocol):
    """Puts what the API accepted on its topic; returns once the broker has acknowledged it."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish_action(self, unit: str, action: UnitAction) -> None:
        """On `units.<unit>.actions`, as the unit's own Kafka client would. Raises `PublishUnavailable`."""
        ...

    async def publish_command(self, command: ControlCommand) -> None:
        """On `tickets.commands`. Raises `PublishUnavailable`."""
        ...


class OrderReader(Protocol):
    async def held_by(self, unit: str, limit: int) -> list[TicketState]:
        """Tickets being worked on that `unit` holds, oldest first, at most `limit`.
        Raises `agents.ports.StoreUnavailable`."""
        ...


class NotYourEntry(Exception):
    """The knowledge-base entry belongs to another unit: a unit writes and retires only its own."""


class KbEntryNotFound(Exception):
    """No knowledge-base entry has that id."""


@dataclass(frozen=True)
class KbRecord:
    """A knowledge-base entry as kept: the entry, its version, who wrote it last and when."""

    entry: KbEntry
    version: int
    updated_by: str
    updated_at: datetime
    retired_at: datetime | None


@dataclass(frozen=True)
class KbVersion:
    """One version of an entry: what it said (None once retired), who changed it, when, how."""

    entry_id: str
    version: int
    entry: KbEntry | None
    changed_by: str
    changed_at: datetime
    change: KbChange


class KbKeeper(Protocol):
    """The units' knowledge-base entries. Raises `agents.ports.StoreUnavailable`."""

    async def upsert(self, entry: KbEntry, by: str, owner: str | None = None) -> tuple[KbWrite, KbRecord]:
        """Create or update; an entry equal to the kept one is left as it is ("unchanged").
        With `owner`, an existing entry of another unit raises `NotYourEntry`."""
        ...

    async def retire(self, entry_id: str, by: str, owner: str | None = None) -> KbRecord:
        """Raises `KbEntryNotFound`, or `NotYourEntry` for another unit's entry."""
        ...

    async def get(self, entry_id: str) -> KbRecord | None:
        """The entry, retired or not."""
        ...

    async def versions(self, entry_id: str) -> list[KbVersion]: ...

    async def list(self, unit: str) -> list[KbRecord]:
        """The unit's entries not retired, by id."""
        ...


class FeedNotReady(Exception):
    """The topics are not there yet (the worker creates them as it starts): try again."""


class OpsDataUnavailable(Exception):
    """PostgreSQL could not answer an ops read; the caller shows what else it has."""


class RoomFeed(Protocol):
    """Every partition of `tickets.events` and `alerts`, read from where the snapshot left off.
    Raises `FeedNotReady` while the topics or the pipeline's offsets are not there yet."""

    async def committed(self) -> dict[int, int]: ...

    async def start(self, committed: dict[int, int], snapshot_at: datetime) -> None: ...

    async def read(self, timeout_ms: int = 100) -> tuple[list[bytes], list[bytes]]: ...

    async def stop(self) -> None: ...


class RoomQueries(Protocol):
    """What the control room reads from the projection. Raises `agents.ports.StoreUnavailable`."""

    async def snapshot(self, day_start: datetime) -> tuple[list[RoomTicket], Counter[str]]: ...

    async def tickets(self, ticket_ids: Sequence[str]) -> list[RoomTicket]: ...

    async def timeline(self, ticket_id: str) -> list[str]: ...

    async def dead_letters(self, limit: int = 20) -> tuple[int, list[DeadLetter]]: ...


class SessionStore(Protocol):
    """Where the room's sessions live: by the SHA-256 of their id, never the id itself."""

    async def create(self, digest: str, principal: Principal, secret: str, expires_at: datetime) -> None:
        """Keep a session; `secret` is what logged in (a token's sessions end when it is revoked)."""
        ...

    async def holder(self, digest: str, now: datetime) -> Principal | None:
        """Who holds a session that is neither ended, expired nor opened by a revoked token."""
        ...

    async def end(self, digest: str) -> None: ...


class QueueReader(Protocol):
    """Open tickets for `/api/queues`: counts by lead unit and status, and the newest ones with
    their whole state (what of it may be shown is `domain.privacy.masking`'s to say)."""

    async def open_tickets_by_unit(self) -> list[dict[str, Any]]: ...

    async def recent_open_tickets(self, limit: int = 50) -> list[dict[str, Any]]: ...


class ReportSource(Protocol):
    """A period's report as of `now`, from the store's event log (`domain.reporting.report`)."""

    @property
    def weights(self) -> RateWeights: ...

    async def report(
        self, kind: PeriodKind, day: date | None, now: datetime, weights: RateWeights | None = None
    ) -> Report: ...


class OpsQueries(Protocol):
    """The gauges `/metrics` reads at each scrape. Raises `OpsDataUnavailable`."""

    async def open_tickets_by_status(self) -> dict[str, int]: ...

    async def overdue_tickets_by_unit(self) -> dict[str, int]: ...


class Readiness(Protocol):
    """A worker's `/ready`: whether it can do its work, and why not."""

    @property
    def ready(self) -> bool: ...

    def as_dict(self) -> dict[str, object]: ...


class StackHealth(Protocol):
    """What the web process's `/health` asks besides itself; never raises, False is the answer."""

    async def database(self) -> bool:
        """PostgreSQL answers."""
        ...

    async def pipeline(self) -> bool:
        """The workers' consumer group is stable with members holding partitions."""
        ...


class Closing(Protocol):
    async def close(self) -> None: ...


@dataclass(frozen=True)
class RoomPorts:
    """What the control room reads and keeps: the projection, the live topics, its sessions,
    and the tokens a login may present."""

    queries: RoomQueries
    feed: RoomFeed
    sessions: SessionStore
    tokens: TokenVerifier


@dataclass(frozen=True)
class WebPorts:
    """Every role the web app is handed. Publishers and the room's feed are started and stopped
    by the app's lifespan; `closing` is closed after them, in order."""

    jurisdiction: Jurisdiction
    room: RoomPorts
    appeals: AppealPublisher
    actions: ActionPublisher
    tickets: TicketReader
    orders: OrderReader
    tokens: TokenVerifier
    queues: QueueReader
    callers: CallerHistory
    # The worker's triager, loaded by the desk in a thread on first use (training takes seconds).
    triager: Callable[[], Triager]
    kb: KbSearcher  # the store's knowledge base, for `/api/kb/search`
    desk_kb: KbSearcher  # what the desk searches: the store's, unless a test hands its own
    kb_entries: KbKeeper
    reports: ReportSource
    ops: OpsQueries
    health: StackHealth
    closing: tuple[Closing, ...] = ()
