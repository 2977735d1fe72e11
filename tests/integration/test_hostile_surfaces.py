"""The hostile-input corpus of every surface but Kafka intake (`tests/hostile.py`), all of it on
one running pipeline: each input ends as exactly what the corpus says (dead letters from the
agents named, with their reasons, at the offsets produced; a ticket event; a refusal alert; a
4xx naming the field; a ticket, a duplicate or a rejection), nothing else reaches a topic, the
worker goes on (a good appeal and a good unit action after it all), and `shaobao verify` finds
the store equal to the log."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from domain.access import Principal
from infra.kafka.topics import list_topic_names
from infra.postgres.store import AsyncpgTicketStore
from infra.postgres.tokens import AsyncpgTokenStore
from infra.reference import load_jurisdiction
from shaobao.web_wiring import web_app
from streams.settings import Settings
from tests.hostile import (
    HTTP_SURFACES,
    KAFKA_SURFACES,
    HttpRequest,
    KafkaRecord,
    Kind,
    Targets,
    csv_file,
    http_request,
    kafka_records,
    mail_files,
    surface_kinds,
)
from tests.integration.clitools import Ran, shaobao
from tests.integration.conftest import Stack
from tests.integration.kafkatools import appeal, encoded, eventually
from tests.integration.topictools import Placed, Record, produce_placed, read_topics
from web.room.auth import COOKIE

pytestmark = pytest.mark.integration
KINDS = 201
PER_SURFACE = {
    "unit_actions": 43,
    "commands": 16,
    "events": 13,
    "http_intake": 25,
    "http_units": 17,
    "http_control": 14,
    "http_room": 13,
    "http_open311": 21,
    "import_mailbox": 19,
    "import_csv": 20,
}
EVENT_READERS = ("fan_out_work_orders", "index_ticket_clocks", "record_ticket_events")
KEPT_BYTES = 256 * 1024
SETTLE_S = 25.0
Outcome = tuple[Any, ...]


@dataclass(frozen=True)
class Sent:
    record: KafkaRecord
    placed: Placed
    topic: str

    @property
    def position(self) -> str:
        return f"{self.topic}:{self.placed.partition}:{self.placed.offset}"


@dataclass
class Web:
    client: httpx.AsyncClient
    auth: dict[str, dict[str, str]]


@pytest.fixture
async def web(stack: Stack) -> AsyncIterator[Web]:
    """The web app in-process; a 500 comes back as a response (not raised), so it is counted."""
    app = web_app(Settings.from_env(stack.env))
    store = AsyncpgTicketStore(stack.settings.database_url)
    tokens = AsyncpgTokenStore(store)
    unit = (await tokens.issue(Principal(subject="zjj", role="unit"))).token
    room = (await tokens.issue(Principal(subject="测试坐席", role="control_room"))).token
    portal = (await tokens.issue(Principal(subject="web:portal", role="intake"))).token
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://shaobao.test", timeout=30) as client,
        ):
            login = await client.post("/api/room/login", json={"name": "x", "secret": room})
            assert login.status_code == 200, login.text
            session = client.cookies[COOKIE]
            client.cookies.clear()
            auth = {
                "none": {},
                "unit": {"Authorization": f"Bearer {unit}"},
                "control_room": {"Authorization": f"Bearer {room}"},
                "intake": {"Authorization": f"Bearer {portal}"},
                "bad": {"Authorization": "Bearer sbk_" + "x" * 43},
                "session": {"Cookie": f"{COOKIE}={session}"},
                "forged_cookie": {"Cookie": f"{COOKIE}=WyJ4IiwiY29udHJvbF9yb29tIl0.9999999999.{'0' * 64}"},
            }
            yield Web(client, auth)
    finally:
        await store.close()


async def settled(probe: Callable[[], Awaitable[bool]], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await probe():
            return True
        await asyncio.sleep(0.5)
    return False


# --- the setup: three tickets, dispatched to zjj with baimaqiao --------------------------------


async def open_tickets(stack: Stack, db: asyncpg.Connection, run: str, names: list[str]) -> dict[str, str]:
    records = {name: appeal(source_id=f"{run}-setup-{name}") for name in names}
    await produce_placed(stack.settings.kafka, stack.names.intake, [encoded(r) for r in records.values()])

    async def dispatched() -> dict[str, str] | None:
        rows = await db.fetch(
            "SELECT ticket_id, status, state->'appeal'->>'source_id' AS source FROM tickets"
            " WHERE state->'appeal'->>'source_id' = ANY($1::text[])",
            [r["source_id"] for r in records.values()],
        )
        found = {row["source"]: row["ticket_id"] for row in rows if row["status"] == "dispatched"}
        return found if len(found) == len(records) else None

    by_source = await eventually(dispatched, timeout_s=40)
    return {name: by_source[r["source_id"]] for name, r in records.items()}


async def first_events(stack: Stack, tickets: list[str]) -> dict[str, Record]:
    records = await read_topics(stack.settings.kafka, [stack.names.events])
    found = {}
    for record in records:
        payload = json.loads(record.value or b"{}")
        if payload.get("ticket_id") in tickets and payload.get("version") == 1:
            found[payload["ticket_id"]] = record
    assert set(found) == set(tickets)
    return found


# --- sending --------------------------------------------------------------------------------


def topic_of(stack: Stack, record: KafkaRecord) -> str:
    surface = record.kind.surface
    if surface == "unit_actions":
        assert record.unit is not None
        return stack.names.unit_actions(record.unit)
    return stack.names.commands if surface == "commands" else stack.names.events


async def send_kafka(stack: Stack, records: list[KafkaRecord]) -> list[Sent]:
    by_topic: dict[str, list[KafkaRecord]] = defaultdict(list)
    for record in records:
        by_topic[topic_of(stack, record)].append(record)

    async def one_topic(topic: str, batch: list[KafkaRecord]) -> list[Sent]:
        placed = await produce_placed(stack.settings.kafka, topic, [(r.key, r.value) for r in batch])
        return [Sent(r, p, topic) for r, p in zip(batch, placed, strict=True)]

    sent = await asyncio.gather(*(one_topic(topic, batch) for topic, batch in by_topic.items()))
    return [s for batch in sent for s in batch]


async def send_http(web: Web, requests: list[HttpRequest]) -> dict[str, httpx.Response]:
    answers = {}
    for request in requests:
        answers[request.kind.name] = await web.client.request(
            request.method,
            request.path,
            content=request.content,
            headers={**web.auth[request.auth], **request.headers},
        )
    return answers


async def run_imports(stack: Stack, kinds: list[Kind], targets: Targets, folder: Path) -> tuple[Ran, Ran]:
    mailbox = folder / "mailbox"
    mailbox.mkdir()
    for kind in kinds:
        if kind.surface == "import_mailbox":
            for name, data in mail_files(kind, targets):
                (mailbox / name).write_bytes(data)
    table = folder / f"{targets.run}-legacy.csv"
    table.write_bytes(csv_file([k for k in kinds if k.surface == "import_csv"], targets))
    mail, rows = await asyncio.gather(
        shaobao(stack, "import", "mailbox", str(mailbox)), shaobao(stack, "import", "csv", str(table))
    )
    return mail, rows


# --- what became of each kind -----------------------------------------------------------------


def kept(text: str | None, encoding: str) -> bytes:
    if text is None:
        return b""
    return base64.b64decode(text) if encoding == "base64" else text.encode()


def source_of(letter: dict[str, Any]) -> str:
    """`<topic>:<partition>:<offset>` of the record a dead letter keeps."""
    source = letter["source"]
    return f"{source['topic']}:{source['partition']}:{source['offset']}"


def letter_problems(sent: Sent, letter: dict[str, Any]) -> list[str]:
    """The letter keeps the record's bytes (the first 256 KiB), its key, length and digest."""
    value = sent.record.value or b""
    data = kept(letter["value"], letter["value_encoding"])
    problems = []
    if letter["value_length"] != len(value) or letter["value_sha256"] != hashlib.sha256(value).hexdigest():
        problems.append("length or digest")
    if letter["truncated"] != (len(value) > KEPT_BYTES) or not value.startswith(data):
        problems.append("kept value")
    if len(data) < min(len(value), KEPT_BYTES) - 4:
        problems.append("kept value too short")
    if (letter["key"] is not None or sent.record.key is not None) and kept(
        letter["key"], letter["key_encoding"]
    ) != (sent.record.key or b""):
        problems.append("key")
    return [f"{sent.record.kind.name} at {sent.position}: dead letter {p} wrong" for p in problems]


def command_id_of(record: KafkaRecord) -> str | None:
    try:
        payload = json.loads(record.value or b"")
    except (ValueError, RecursionError):
        return None
    if not isinstance(payload, dict):
        return None
    if record.kind.surface == "unit_actions":
        return f"unit:{record.unit}:{payload.get('action_id')}"
    return payload.get("command_id") if record.kind.surface == "commands" else None


def expected_kafka(kind: Kind, sent: list[Sent]) -> Outcome:
    expect = kind.expect
    if expect["outcome"] == "dead_letter":
        letters = sorted(expect["letters"].items()) * len(sent)
        return ("dead_letter", sorted(letters))
    if expect["outcome"] == "event":
        return ("event", expect["types"], [expect["alert"]] if "alert" in expect else [])
    if expect["outcome"] == "refused":
        return ("refused", [expect["alert"]])
    return ("nothing",)


def actual_kafka(
    sent: list[Sent],
    letters: dict[str, list[dict[str, Any]]],
    events: dict[str, list[str]],
    alerts: dict[str, list[dict[str, Any]]],
) -> Outcome:
    found = sorted(
        (letter["agent"], letter["reason"]) for s in sent for letter in letters.get(s.position, [])
    )
    if found:
        return ("dead_letter", found)
    ids = {cid for s in sent if (cid := command_id_of(s.record)) is not None}
    types = [t for cid in sorted(ids) for t in events.get(cid, [])]
    raised = sorted(
        a["kind"] for cid in ids for a in alerts.get(cid, []) if a["kind"] in ("security", "command_rejected")
    )
    if types:
        return ("event", types, raised)
    if raised:
        return ("refused", raised)
    return ("nothing",)


def actual_http(kind: Kind, answer: httpx.Response) -> list[str]:
    expect = kind.expect
    problems = []
    if answer.status_code != expect["status"]:
        problems.append(
            f"{kind.name}: HTTP {answer.status_code}, not {expect['status']}: {answer.text[:300]}"
        )
    elif "field" in expect:
        try:
            fields = [f["field"] for f in answer.json().get("fields", [])]
        except (ValueError, AttributeError):
            fields = []
        if expect["field"] not in fields and expect["field"] not in answer.text:
            problems.append(
                f"{kind.name}: the {answer.status_code} does not name {expect['field']}: {answer.text[:300]}"
            )
    return problems


async def import_outcomes(
    db: asyncpg.Connection, rejections: list[dict[str, Any]], kinds: list[Kind], targets: Targets
) -> dict[str, Outcome]:
    rows = await db.fetch(
        "SELECT state FROM tickets WHERE state->'appeal'->>'text' LIKE $1", f"%{targets.run}-i%"
    )
    tickets = [json.loads(row["state"]) for row in rows]
    outcomes: dict[str, Outcome] = {}
    for kind in kinds:
        ident = targets.ident(kind)
        mine = [t for t in tickets if ident in t["appeal"]["text"]]
        refused = [
            r
            for r in rejections
            if ident.encode() in kept(r["original"], r["original_encoding"])
            or f":{ident}" in r["rejection_id"]
        ]
        found: list[Outcome] = [("ticket", t["duplicates"]) for t in mine]
        found += [("rejection", r["message"].split(":", 1)[0]) for r in refused]
        if found == [("ticket", 0)]:
            outcomes[kind.name] = ("ticket",)
        elif found == [("ticket", 1)]:
            outcomes[kind.name] = ("duplicate",)
        elif len(found) == 1 and found[0][0] == "rejection":
            outcomes[kind.name] = found[0]
        else:
            outcomes[kind.name] = ("not exactly one outcome", *found)
    return outcomes


def expected_import(kind: Kind) -> Outcome:
    expect = kind.expect
    return ("rejection", expect["reason"]) if expect["outcome"] == "rejection" else (expect["outcome"],)


def decoded(records: list[Record]) -> list[dict[str, Any]]:
    return [json.loads(r.value) for r in records if r.value]


async def test_every_hostile_input_on_every_surface_ends_as_exactly_what_it_should(
    stack: Stack, db: asyncpg.Connection, web: Web, tmp_path: Path
) -> None:
    started = time.monotonic()
    log_start = stack.worker_log.stat().st_size
    kinds = surface_kinds()
    assert len(kinds) == KINDS and Counter(k.surface for k in kinds) == PER_SURFACE
    run = f"h{uuid.uuid4().hex[:7]}"
    access, names = stack.settings.kafka, stack.names
    jurisdiction = load_jurisdiction(stack.settings.jurisdiction_file)

    tickets = await open_tickets(stack, db, run, ["actions", "commands", "events", "http"])
    firsts = await first_events(stack, list(tickets.values()))
    topics = await list_topic_names(access)
    units = tuple(u for u in sorted(jurisdiction.unit_codes) if names.unit_actions(u) in topics)
    targets = Targets(
        run=run,
        now=datetime.now(UTC),
        # HTTP gets a ticket of its own: a request taken by mistake must not change the others' outcomes.
        tickets={
            "unit_actions": tickets["actions"],
            "commands": tickets["commands"],
            "events": tickets["events"],
            **{surface: tickets["http"] for surface in HTTP_SURFACES},
        },
        received={tid: json.loads(r.value or b"") for tid, r in firsts.items()},
        first_event=firsts[tickets["events"]].value or b"",
        service=next(iter(jurisdiction.category_by_code)),
        units=units,
    )
    assert len(units) == len(jurisdiction.unit_codes) == 44

    # Everything at once, as hostile systems would: Kafka, HTTP and the importers.
    kafka = [r for k in kinds if k.surface in KAFKA_SURFACES for r in kafka_records(k, targets)]
    requests = [http_request(k, targets) for k in kinds if k.surface in HTTP_SURFACES]
    sent, answers, (mail_run, csv_run) = await asyncio.gather(
        send_kafka(stack, kafka),
        send_http(web, requests),
        run_imports(stack, kinds, targets, tmp_path),
    )
    by_kind: dict[str, list[Sent]] = defaultdict(list)
    for s in sent:
        by_kind[s.record.kind.name].append(s)
    positions = {s.position: s for s in sent}
    letter_kinds = [k for k in kinds if k.expect["outcome"] == "dead_letter"]
    wanted_letters = sum(len(k.expect["letters"]) * len(by_kind[k.name]) for k in letter_kinds)
    import_kinds = [k for k in kinds if k.surface.startswith("import_")]
    wanted_rejections = sum(1 for k in import_kinds if k.expect["outcome"] == "rejection")
    wanted_ticket_events = {
        cid for s in sent if (cid := command_id_of(s.record)) and s.record.kind.expect["outcome"] == "event"
    }

    wanted_refusals = {
        f"refused:{cid}"
        for s in sent
        if (cid := command_id_of(s.record)) and s.record.kind.expect["outcome"] == "refused"
    }
    wanted_tickets = sum(1 for k in import_kinds if k.expect["outcome"] in ("ticket", "duplicate"))
    wanted_duplicates = sum(1 for k in import_kinds if k.expect["outcome"] == "duplicate")
    state: dict[str, Any] = {}

    async def everything_arrived() -> bool:
        """Every dead letter, rejection, refusal, ticket event and ticket the corpus calls for is there."""
        records = await read_topics(access, [names.dead_letters, names.alerts, names.rejected])
        grouped: dict[str, list[Record]] = defaultdict(list)
        for r in records:
            grouped[r.topic].append(r)
        state["letters"] = decoded(grouped[names.dead_letters])
        state["alerts"] = decoded(grouped[names.alerts])
        state["rejected"] = decoded(grouped[names.rejected])
        mine = [x for x in state["letters"] if source_of(x) in positions]
        stored = await db.fetchval(
            "SELECT count(*) FROM dead_letters WHERE dead_letter_id = ANY($1::text[])",
            [x["dead_letter_id"] for x in mine],
        )
        imported = [
            x
            for x in state["rejected"]
            if x["rejection_id"].startswith("import:") and run in x["rejection_id"]
        ]
        refusals = {a["alert_id"] for a in state["alerts"]} & wanted_refusals
        acted = await db.fetchval(
            "SELECT count(DISTINCT payload->>'command_id') FROM ticket_events"
            " WHERE payload->>'command_id' = ANY($1::text[])",
            sorted(wanted_ticket_events),
        )
        tickets_in, duplicates = await db.fetchrow(
            "SELECT count(*), coalesce(sum((state->>'duplicates')::int), 0) FROM tickets"
            " WHERE state->'appeal'->>'text' LIKE $1",
            f"%{run}-i%",
        )
        return (
            len(mine) >= wanted_letters
            and stored >= len(mine)
            and len(imported) >= wanted_rejections
            and len(refusals) >= len(wanted_refusals)
            and acted >= len(wanted_ticket_events)
            and tickets_in >= wanted_tickets
            and duplicates >= wanted_duplicates
        )

    await settled(everything_arrived, SETTLE_S)
    await asyncio.sleep(1.5)  # time for anything doubled to show up
    await everything_arrived()
    failures: list[str] = []

    # --- Kafka surfaces: dead letters at the offsets produced, events, refusals ---------------
    letters: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for letter in state["letters"]:
        letters[source_of(letter)].append(letter)
    alerts_by_command: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for alert in state["alerts"]:
        if (cid := alert.get("details", {}).get("command_id")) is not None:
            alerts_by_command[cid].append(alert)
    event_rows = await db.fetch(
        "SELECT payload FROM ticket_events WHERE ticket_id = ANY($1::text[]) ORDER BY version",
        list(tickets.values()),
    )
    events_by_command: dict[str, list[str]] = defaultdict(list)
    for row in event_rows:
        payload = json.loads(row["payload"])
        events_by_command[payload["command_id"]].append(payload["type"])
    for kind in kinds:
        if kind.surface not in KAFKA_SURFACES:
            continue
        mine = by_kind[kind.name]
        expected, actual = (
            expected_kafka(kind, mine),
            actual_kafka(mine, letters, events_by_command, alerts_by_command),
        )
        if actual != expected:
            failures.append(f"{kind.name}: {actual!r}, not {expected!r}")
        for s in mine:
            for letter in letters.get(s.position, []):
                failures += letter_problems(s, letter)
    # One letter per agent and record, named `<source position>:<agent>`, each alerted once (with
    # the unit whose topic it came on) and held by the dead_letters table.
    set_aside = [x for x in state["letters"] if source_of(x) in positions]
    misnamed = [
        x["dead_letter_id"] for x in set_aside if x["dead_letter_id"] != f"{source_of(x)}:{x['agent']}"
    ]
    if misnamed or len({x["dead_letter_id"] for x in set_aside}) != len(set_aside):
        failures.append(f"dead letter ids not one per record and agent: {misnamed[:5]}")
    dead_alerts = Counter(
        (a["details"]["dead_letter_id"], a["details"]["agent"], a["unit"])
        for a in state["alerts"]
        if a["kind"] == "dead_letter"
        and a["details"]["dead_letter_id"] in {x["dead_letter_id"] for x in set_aside}
    )
    letter_alerts = Counter(
        (x["dead_letter_id"], x["agent"], positions[source_of(x)].record.unit) for x in set_aside
    )
    if dead_alerts != letter_alerts:
        failures.append(
            f"dead-letter alerts {sorted((dead_alerts - letter_alerts).items())[:5]} "
            f"vs letters {sorted((letter_alerts - dead_alerts).items())[:5]}"
        )
    garbage = {s.position for s in by_kind["unit_actions/garbage_on_every_units_topic"]}
    every_unit = {unit for (letter_id, _, unit) in dead_alerts if letter_id.rsplit(":", 1)[0] in garbage}
    if every_unit != set(units):
        failures.append(f"garbage on every unit's topic alerted {len(every_unit)} units, not {len(units)}")
    stray = [
        f"{x['dead_letter_id']} ({x['reason']})"
        for x in state["letters"]
        if source_of(x) not in positions
        and (
            run.encode() in kept(x["value"], x["value_encoding"])
            or any(t in (x["key"] or "") for t in tickets.values())
        )
    ]
    if stray:
        failures.append(
            f"dead letters of records nobody sent (what the inputs caused downstream): {stray[:10]}"
        )
    stored = await db.fetch(
        "SELECT dead_letter_id FROM dead_letters WHERE dead_letter_id = ANY($1::text[])",
        [x["dead_letter_id"] for x in set_aside],
    )
    if len(stored) != len(set_aside):
        failures.append(f"the dead_letters table holds {len(stored)} of the {len(set_aside)} dead letters")

    # --- HTTP: each a 4xx with its status, and nothing on any topic -----------------------------
    for kind in kinds:
        if kind.surface in HTTP_SURFACES:
            failures += actual_http(kind, answers[kind.name])
    http_mark = f"{run}-h".encode()
    published = await read_topics(
        access, [names.intake, names.commands, names.unit_actions("zjj"), names.rejected]
    )
    leaked = [f"{r.topic}:{r.partition}:{r.offset}" for r in published if r.value and http_mark in r.value]
    if leaked:
        failures.append(f"HTTP requests answered 4xx (or meant to be) reached topics: {leaked[:10]}")

    # --- imports: each row or file a ticket, a duplicate or a rejection -------------------------
    imported = [x for x in state["rejected"] if x["rejection_id"].startswith("import:")]
    outcomes = await import_outcomes(db, imported, import_kinds, targets)
    for kind in import_kinds:
        if outcomes[kind.name] != expected_import(kind):
            failures.append(f"{kind.name}: {outcomes[kind.name]!r}, not {expected_import(kind)!r}")
    mail_kinds = [k for k in import_kinds if k.surface == "import_mailbox"]
    csv_kinds = [k for k in import_kinds if k.surface == "import_csv"]
    for ran, group, files in (
        (mail_run, mail_kinds, sum(len(mail_files(k, targets)) for k in mail_kinds)),
        (csv_run, csv_kinds, sum(int(k.expect.get("copies", 1)) for k in csv_kinds)),
    ):
        refused = sum(1 for k in group if k.expect["outcome"] == "rejection")
        twice = sum(1 for k in group if k.expect["outcome"] == "duplicate")
        line = (
            f"read {files}, accepted {files - refused - twice} (sent to {names.intake}), "
            f"duplicates {twice}, rejected {refused}"
        )
        if ran.code != 1 or line not in ran.out:
            failures.append(
                f"import summary: exit {ran.code}, wanted '{line}' in:\n{ran.out}\n{ran.err[-2000:]}"
            )
    intake_rejections = [
        x
        for x in state["rejected"]
        if x["source"]["topic"] == names.intake
        and run.encode() in kept(x["original"], x["original_encoding"])
    ]
    if intake_rejections:
        failures.append(
            "inputs rejected by the intake agent after being accepted: "
            f"{[x['message'][:200] for x in intake_rejections]}"
        )

    # --- the worker went on: a good appeal over HTTP, a good unit action over Kafka ---------------
    good = {**appeal(source_id=f"{run}-after"), "channel": "web"}
    del good["received_at"]
    answer = await web.client.post("/api/appeals", json=good, headers=web.auth["intake"])
    assert answer.status_code == 202, answer.text
    note = {
        "type": "note_progress",
        "action_id": f"{run}-after",
        "ticket_id": tickets["actions"],
        "acted_at": datetime.now(UTC).isoformat(),
        "note": "处理中",
    }
    await produce_placed(
        access, names.unit_actions("zjj"), [(tickets["actions"].encode(), json.dumps(note).encode())]
    )

    async def went_on() -> bool:
        ticket = await db.fetchval(
            "SELECT status FROM tickets WHERE state->'appeal'->>'source_id' = $1", f"portal.{run}-after"
        )
        noted = await db.fetchval(
            "SELECT type FROM ticket_events WHERE ticket_id = $1 AND payload->>'command_id' = $2",
            tickets["actions"],
            f"unit:zjj:{run}-after",
        )
        return bool(ticket == "dispatched" and noted == "progress_noted")

    if not await settled(went_on, 15):
        failures.append("the worker did not take a good appeal and a good unit action after the corpus")
    health = (await web.client.get("/health")).json()
    if health.get("control_room") is not True:
        failures.append(f"the control room is not live after the corpus: {health}")
    with stack.worker_log.open("rb") as log:
        log.seek(log_start)
        tail = log.read().decode("utf-8", "replace")
    fatal = [line for line in tail.splitlines() if "Crashed" in line or "without committing" in line]
    if fatal:
        failures.append(f"the worker log: {fatal[:5]}")

    # --- the store holds what the log says -----------------------------------------------------
    verified = await shaobao(stack, "verify")
    if verified.code != 0 or f"0 differences between {names.events} and the store" not in verified.out:
        failures.append(f"shaobao verify: exit {verified.code}\n{verified.out[-3000:]}{verified.err[-2000:]}")

    elapsed = time.monotonic() - started
    assert not failures, f"{len(failures)} problems ({elapsed:.0f} s):\n" + "\n".join(failures)
