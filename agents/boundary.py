"""Every agent's error boundary, one message at a time.

Faust acks the event an agent was processing when an exception leaves the agent's body, and
its supervisor starts the agent again after it: anything that escapes is a message lost in
silence. So nothing escapes:
- a message the agent cannot process (undecodable, against the contract, refused by the
  store, tripping a bug) becomes a dead letter on `dead.letters` (with its bytes, where it
  came from and why), an alert and a count; the agent goes on with the next;
- a passing fault (Kafka or PostgreSQL unavailable) is retried with backoff, never dead-lettered;
- anything else (the dead letter cannot be written, a cancellation in the middle of a
  message, an exception outside `Exception`) stops the worker at once without committing
  (`crash`): whatever restarts it (`make run`'s supervisor, systemd, Kubernetes) resumes from
  the last committed offset, and idempotent readers make the replay harmless.
"""

from __future__ import annotations

import asyncio
import json
import logging
import traceback
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import NoReturn, Protocol

from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError, MessageSizeTooLargeError
from faust.types import EventT
from pydantic import ValidationError

from agents.outbox import Outbox, Staged
from agents.ports import StoreUnavailable, TimeSource, Unfoldable, Unstorable
from domain.alerts import dead_letter_alert
from domain.ticket import FoldError
from schemas.dead_letters import DeadLetter, DeadLetterReason
from schemas.rejections import SourcePosition
from streams import departure, log_context
from streams.app import Streams
from streams.event_context import make_current
from streams.faults import Faults
from streams.kept import KEY_LIMIT, keep
from streams.metrics import DEAD_LETTERS, TRANSIENT_RETRIES

log = logging.getLogger(__name__)
EXIT_CRASHED = 70  # EX_SOFTWARE: something escaped a boundary; offsets past it were not committed
EXIT_INTERRUPTED = 75  # EX_TEMPFAIL: stopped in the middle of a message or a retry
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 10.0
STOP_CHECK_S = 0.5
ERROR_CHARS = 4000


@dataclass(frozen=True, slots=True)
class Record:
    """Where a message came from and its bytes, as the consumer got them (and the Faust event,
    which a table write made for it belongs to)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    event: EventT[bytes] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, event: EventT[bytes]) -> Record:
        """From a Faust event (its message's raw key and value)."""
        message = event.message
        raw_key, raw_value = _raw(message.key), _raw(message.value)
        return cls(message.topic, message.partition, message.offset, raw_key, raw_value, event)

    @property
    def position(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"


def _raw(data: object) -> bytes | None:
    if data is None or isinstance(data, bytes):
        return data
    return str(data).encode()


Step = Callable[[Record, Outbox], Awaitable[None]]


class DeadLetterOutlet(Protocol):
    async def __call__(self, letter: DeadLetter) -> None:
        """Write the letter (and its alert); raises what the producer raises."""
        ...


def crash(agent: str, exc: BaseException | None, why: str, code: int = EXIT_CRASHED) -> NoReturn:
    """Stop the worker now, committing nothing more: the restart resumes from the last commit."""
    detail = "".join(traceback.format_exception(exc)) if exc is not None else ""
    log.critical("agent %s: %s; exiting (%d) without committing\n%s", agent, why, code, detail)
    departure.leave_and_exit(code)


def is_transient(exc: BaseException) -> bool:
    """A passing fault of Kafka or PostgreSQL: retry the same message, never dead-letter it."""
    if isinstance(exc, StoreUnavailable | KafkaConnectionError | KafkaTimeoutError):
        return True
    return isinstance(exc, KafkaError) and bool(getattr(exc, "retriable", False))


# pydantic's errors that mean "not a payload of this topic at all" (not JSON, not an object,
# no known `type`), against a payload with a value the contract refuses.
_NOT_A_PAYLOAD = {"json_invalid", "json_type", "union_tag_not_found", "model_type", "dict_type"}


def reason_for(exc: BaseException) -> DeadLetterReason:
    if isinstance(exc, UnicodeDecodeError | json.JSONDecodeError):
        return "undecodable"
    if isinstance(exc, ValidationError):
        shapes = {e["type"] for e in exc.errors() if e["type"] in _NOT_A_PAYLOAD or not e["loc"]}
        return "undecodable" if shapes else "contract_violation"
    if isinstance(exc, FoldError | Unfoldable):
        return "unfoldable"
    if isinstance(exc, Unstorable):
        return "unstorable"
    if _too_large(exc):
        return "too_large"
    return "processing_error"


def _too_large(exc: BaseException) -> bool:
    """The producer refused a record as too large, even wrapped (Faust's `ProducerSendError`)."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, MessageSizeTooLargeError) or "MessageSizeTooLargeError" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def dead_letter(agent: str, record: Record, exc: BaseException, clock: TimeSource) -> DeadLetter:
    """The dead letter for `record`: deterministic id (its source position and the agent: two
    agents reading one topic may each give up on the same record), bounded size."""
    key, value = keep(record.key, KEY_LIMIT), keep(record.value)
    return DeadLetter(
        dead_letter_id=f"{record.position}:{agent}",
        agent=agent,
        reason=reason_for(exc),
        error_class=type(exc).__name__,
        error=_error_text(exc),
        source=SourcePosition(topic=record.topic, partition=record.partition, offset=record.offset),
        key=key.text,
        key_encoding=key.encoding,
        value=value.text,
        value_encoding=value.encoding,
        value_length=value.length,
        value_sha256=value.sha256,
        truncated=value.truncated,
        dead_at=clock.now(),
    )


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        # Field by field, not pydantic's header (a tagged union's is a line of wrapper names).
        parts = [f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}" for e in exc.errors()[:5]]
        more = exc.error_count() - len(parts)
        text = "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
    else:
        text = str(exc) or type(exc).__name__
    # The error may quote the input: keep it to what every store and screen can hold.
    cleaned = "".join(c if c.isprintable() or c in "\n\t" else f"\\u{ord(c):04x}" for c in text[:ERROR_CHARS])
    return cleaned[:ERROR_CHARS]


class Boundary:
    """One agent's boundary: `handle` runs the work for one record and never lets go of it."""

    def __init__(
        self,
        agent: str,
        outlet: DeadLetterOutlet,
        clock: TimeSource,
        stopping: Callable[[], bool] = lambda: False,
        faults: Faults | None = None,
        first_backoff_s: float = FIRST_BACKOFF_S,
        max_backoff_s: float = MAX_BACKOFF_S,
        ticket_keys: bool = False,
    ) -> None:
        """`ticket_keys`: the records' keys are ticket ids (named in the log lines of a batch)."""
        self.agent, self._outlet, self._clock, self._stopping = agent, outlet, clock, stopping
        self._ticket_keys = ticket_keys
        self._faults = faults or Faults.none()
        self._first_backoff_s, self._max_backoff_s = first_backoff_s, max_backoff_s

    @contextmanager
    def _holding(self, what: str) -> Iterator[None]:
        """Around the work on one record or batch: nothing that escapes it leaves the agent."""
        try:
            yield
        except asyncio.CancelledError as exc:
            # Faust would ack what is in hand as the cancellation unwinds: do not let it.
            crash(self.agent, exc, f"cancelled in the middle of {what}", EXIT_INTERRUPTED)
        except BaseException as exc:  # noqa: BLE001 - the point: nothing leaves an agent
            crash(self.agent, exc, f"unhandled failure on {what}")

    async def handle(self, record: Record, work: Callable[[Record], Awaitable[None]]) -> None:
        with self._holding(record.position):
            failure = await self._attempt(record, partial(work, record))
            if failure is not None:
                await self.set_aside(record, failure)

    async def handle_batch(
        self, records: Sequence[Record], work: Callable[[Sequence[Record]], Awaitable[None]]
    ) -> None:
        """`work` on the whole batch; when it fails for good, on each record alone, so only the
        records that fail by themselves become dead letters."""
        if not records:
            return
        log_context.agent.set(self.agent)
        with self._holding(f"a batch from {records[0].position}"):
            failure = await self._attempt(records[0], partial(work, records))
            if failure is not None:
                if len(records) == 1:
                    await self.set_aside(records[0], failure)
                    return
                log.warning(
                    "agent %s: a batch of %d failed (%s); one at a time", self.agent, len(records), failure
                )
                for record in records:
                    failure = await self._attempt(record, partial(work, [record]))
                    if failure is not None:
                        await self.set_aside(record, failure)

    async def handle_each(self, records: Sequence[Record], step: Step, tables: Sequence[Staged]) -> None:
        """A batch of an agent that keeps tables (`agents.outbox`): `step` for each record, its
        outputs into one outbox and its writes into the staged `tables`; then every output
        acknowledged at once; then the tables written. A record whose step fails for good is a
        dead letter and the others go on; a passing fault retries the whole batch; a delivery
        that fails for good is tried again one record at a time, so that only the record whose
        output cannot be delivered is set aside."""
        if not records:
            return
        with self._holding(f"a batch from {records[0].position}"):
            poisoned = self._planned(records)
            failed: list[tuple[Record, Exception]] = []
            each = partial(self._each, step, tables, poisoned, failed)
            failure = await self._attempt(records[0], partial(each, records), faults=False)
            if failure is None:
                for record, exc in failed:
                    await self.set_aside(record, exc)
                return
            log.warning(
                "agent %s: a batch of %d undeliverable (%s); one at a time", self.agent, len(records), failure
            )
            for record in records:
                failure = await self._attempt(record, partial(each, [record]), faults=False)
                for one, exc in failed:
                    await self.set_aside(one, exc)
                if failure is not None:
                    await self.set_aside(record, failure)

    def _in_context(self, record: Record) -> None:
        """What the log lines and send counts of this record's step are about: a batch is
        processed in the agent's task, not in the stream's, where the ops sensor set them."""
        log_context.agent.set(self.agent)
        key = record.key if self._ticket_keys else None
        log_context.ticket_id.set(key.decode("utf-8", "replace") if key else None)

    def _planned(self, records: Sequence[Record]) -> dict[str, Exception]:
        """The injected faults (tests only) as each record is taken up: a crash stops the worker
        now; a poison is that record's failure."""
        poisoned: dict[str, Exception] = {}
        for record in records:
            try:
                self._faults.before(self.agent, record.position)
            except Exception as exc:  # noqa: BLE001 - a planned poison
                poisoned[record.position] = exc
        return poisoned

    async def _each(
        self,
        step: Step,
        tables: Sequence[Staged],
        poisoned: dict[str, Exception],
        failed: list[tuple[Record, Exception]],
        records: Sequence[Record],
    ) -> None:
        failed.clear()
        for table in tables:
            table.reset()
        outbox = Outbox()
        for record in records:
            try:
                if record.position in poisoned:
                    raise poisoned[record.position]
                make_current(record.event)
                self._in_context(record)
                await step(record, outbox)
            except Exception as exc:  # noqa: BLE001 - sorted: passing (the batch again), or poison
                for table in tables:
                    table.drop()
                if is_transient(exc):
                    raise
                failed.append((record, exc))
            else:
                for table in tables:
                    table.keep()
        await outbox.delivered()
        for table in tables:
            table.write()

    async def _attempt(
        self, record: Record, work: Callable[[], Awaitable[None]], faults: bool = True
    ) -> Exception | None:
        """Run `work` until it succeeds (None) or fails for good (the exception)."""
        backoff, first = self._first_backoff_s, faults
        while True:
            try:
                if first:
                    first = False
                    self._faults.before(self.agent, record.position)  # tests only: usually nothing
                await work()
                return None
            except Exception as exc:  # noqa: BLE001 - sorted below: passing, or poison
                if not is_transient(exc):
                    return exc
                TRANSIENT_RETRIES.labels(self.agent).inc()
                log.warning(
                    "agent %s: %s unavailable, retrying %s in %.1fs",
                    self.agent,
                    exc,
                    record.position,
                    backoff,
                )
                await self.wait(backoff)
                backoff = min(backoff * 2, self._max_backoff_s)

    async def set_aside(self, record: Record, exc: BaseException) -> None:
        """Write `record` to `dead.letters`; Kafka unavailable meanwhile is waited out."""
        letter = dead_letter(self.agent, record, exc, self._clock)
        log.error(
            "agent %s: dead letter %s (%s): %s: %s",
            self.agent,
            letter.dead_letter_id,
            letter.reason,
            letter.error_class,
            letter.error[:300],
            exc_info=exc if letter.reason == "processing_error" else None,
        )
        backoff = self._first_backoff_s
        while True:
            try:
                await self._outlet(letter)
                break
            except Exception as error:
                if not is_transient(error):
                    raise
                await self.wait(backoff)
                backoff = min(backoff * 2, self._max_backoff_s)
        DEAD_LETTERS.labels(self.agent, letter.reason).inc()

    async def wait(self, seconds: float) -> None:
        """Sleep before a retry; a worker told to stop meanwhile exits, committing nothing."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (left := deadline - loop.time()) > 0:
            if self._stopping():
                crash(self.agent, None, "stopped while retrying a message", EXIT_INTERRUPTED)
            await asyncio.sleep(min(left, STOP_CHECK_S))


Task = Callable[[], Awaitable[None]]  # a timer's or a task's body


def guard_task(name: str, task: Task) -> Task:
    """A timer's body: anything that escapes it stops the worker (the restart rebuilds its state)."""

    async def guarded() -> None:
        try:
            await task()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - see the module's doc
            crash(name, exc, "the timer failed")

    return guarded


def boundary_for(
    streams: Streams,
    agent: str,
    clock: TimeSource,
    unit_of: Callable[[str], str | None] = lambda topic: None,
    ticket_keys: bool = False,
) -> Boundary:
    """The boundary of one of the app's agents: dead letters and their alerts on the app's topics.

    `unit_of`: the unit a source topic belongs to (a unit's actions), named in the alert;
    `ticket_keys`: the source topic is keyed by ticket id."""

    async def outlet(letter: DeadLetter) -> None:
        await streams.dead_letters.send(letter.dead_letter_id, letter)
        unit = unit_of(letter.source.topic)
        await streams.alerts.send(unit or letter.agent, dead_letter_alert(letter, unit))

    def stopping() -> bool:
        return bool(streams.app.should_stop)

    return Boundary(agent, outlet, clock, stopping, streams.faults, ticket_keys=ticket_keys)
