"""In-memory stand-ins for the ports the tests share, each declared against the Protocol it fakes
(`agents.ports`, `web.ports`) so that mypy holds it to the real signatures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from agents.ports import LagReader, LagUnavailable, TimeSource
from domain.access import Principal
from domain.open311 import RequestQuery
from domain.ops import PartitionLag
from domain.ticket import TicketState
from schemas.actions import UnitAction
from schemas.appeal import Appeal
from schemas.commands import ControlCommand
from schemas.triage import TriageDecision
from web.ports import (
    ActionPublisher,
    AppealPublisher,
    OrderReader,
    PublishUnavailable,
    TicketReader,
    TokenVerifier,
)

# A blocked sewer in Baimaqiao: dispatched to the housing bureau, the town working with it.
SEWER_TRIAGE = TriageDecision(
    appeal_type="help",
    category="drainage.sewer",
    urgency="normal",
    town="baimaqiao",
    disposition="dispatch",
    lead="zjj",
    co=("baimaqiao",),
    confidence=0.9,
)


class RecordingRouter:
    """The triage in force as the intake calls it (`Callable[[Appeal], TriageDecision]`): one
    decision for every appeal, and the appeals it was asked about, in order."""

    def __init__(self, decision: TriageDecision = SEWER_TRIAGE) -> None:
        self.decision = decision
        self.routed: list[Appeal] = []

    def decide(self, appeal: Appeal) -> TriageDecision:
        self.routed.append(appeal)
        return self.decision


class FrozenClock(TimeSource):
    """The time stands at `at` until the test moves it."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


class SteppingClock(TimeSource):
    """Moves `step` on each time it is read, as a loop that reads the time once a round sees it."""

    def __init__(
        self, at: datetime = datetime(2026, 3, 2, 1, 0, tzinfo=UTC), step: timedelta = timedelta(seconds=10)
    ) -> None:
        self.at, self.step = at, step

    def now(self) -> datetime:
        self.at += self.step
        return self.at


class InMemoryLagReader(LagReader):
    """Answers with `lags`, or fails as an unreachable broker does while `fail` is set."""

    def __init__(self) -> None:
        self.lags: list[PartitionLag] = []
        self.fail = False
        self.asked: list[tuple[str, tuple[str, ...]]] = []

    async def lag(self, group: str, now: datetime, topics: Sequence[str] = ()) -> list[PartitionLag]:
        self.asked.append((group, tuple(topics)))
        if self.fail:
            raise LagUnavailable("broker unreachable")
        return self.lags


class InMemoryTokenVerifier(TokenVerifier):
    """The principals by their tokens; any other token is nobody's."""

    def __init__(self, tokens: Mapping[str, Principal]) -> None:
        self.tokens = dict(tokens)

    async def verify(self, token: str) -> Principal | None:
        return self.tokens.get(token)


class InMemoryPublisher(AppealPublisher, ActionPublisher):
    """What would go to Kafka, kept in order; while `down`, refused as an unreachable broker does."""

    def __init__(self) -> None:
        self.appeals: list[Appeal] = []
        self.actions: list[tuple[str, UnitAction]] = []
        self.commands: list[ControlCommand] = []
        self.down = False

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, appeal: Appeal) -> None:
        self._refuse_when_down()
        self.appeals.append(appeal)

    async def publish_action(self, unit: str, action: UnitAction) -> None:
        self._refuse_when_down()
        self.actions.append((unit, action))

    async def publish_command(self, command: ControlCommand) -> None:
        self._refuse_when_down()
        self.commands.append(command)

    @property
    def sent(self) -> int:
        return len(self.appeals) + len(self.actions) + len(self.commands)

    def _refuse_when_down(self) -> None:
        if self.down:
            raise PublishUnavailable("broker down")


class InMemoryTickets(TicketReader, OrderReader):
    """Tickets as the store would hold them, by id; `asked` records each unit's order query."""

    def __init__(self, *states: TicketState) -> None:
        self.states = {s.ticket_id: s for s in states}
        self.asked: list[tuple[str, int]] = []

    async def held_by(self, unit: str, limit: int) -> list[TicketState]:
        self.asked.append((unit, limit))
        return [s for s in self.states.values() if s.assignment(unit) is not None][:limit]

    async def by_ticket_id(self, ticket_id: str) -> TicketState | None:
        return self.states.get(ticket_id)

    async def by_intake_key(self, channel: str, source_id: str) -> TicketState | None:
        key = (channel, source_id)
        return next((s for s in self.states.values() if (s.appeal.channel, s.appeal.source_id) == key), None)

    async def find(self, query: RequestQuery) -> list[TicketState]:
        # Only the ids filter: the tests that search more go to PostgreSQL (tests/integration).
        found = [s for s in self.states.values() if not query.ticket_ids or s.ticket_id in query.ticket_ids]
        return found[query.offset : query.offset + query.limit]
