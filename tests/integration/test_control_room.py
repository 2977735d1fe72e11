"""The control room on a pipeline of TWO workers (each owns only some partitions): its queues
equal what the events produced say, and equal the fold of `tickets.events` read whole; manual
dispatch from the room reaches the ticket; the room's API needs the session cookie."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from domain.access import Principal
from domain.intake.ids import receive_command
from domain.room import RoomTicket
from domain.room.queues import unit_queues
from domain.ticket.fold import TicketState, replay
from infra.kafka.action_producer import AiokafkaActionProducer
from infra.local.services import ServiceEndpoints
from infra.postgres.store import AsyncpgTicketStore
from infra.postgres.tokens import AsyncpgTokenStore
from infra.reference import load_jurisdiction
from schemas.appeal import Appeal
from schemas.events import TICKET_EVENT, TicketEvent
from schemas.triage import TriageDecision
from shaobao.launch import Pipeline, free_port, isolated_pipeline, run_coroutine, start_worker, stop_process
from shaobao.web_wiring import room_ports
from streams.kafka_access import KafkaAccess
from streams.settings import Settings
from tests.integration.kafkatools import appeal, encoded, eventually, produce, read_all
from tests.integration.lifecycletools import act
from tests.integration.webtools import Web, running_web
from web.room.live import Subscriber
from web.room.routes import ControlRoom
from web.room.setup import create_control_room

PASSWORD = "room-test-口令"
DISPATCHED = 9
SIGNED = 4
MANUAL = 2


async def group_members(kafka: KafkaAccess, group: str) -> int:
    admin = AIOKafkaAdminClient(**kafka.client_options())
    await admin.start()
    try:
        described = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    return sum(len(g[5]) for response in described for g in response.groups if g[2] == "Stable")


@pytest.fixture(scope="module")
def two_workers(endpoints: ServiceEndpoints, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    workdir = tmp_path_factory.mktemp("room")
    with isolated_pipeline(endpoints.kafka, endpoints.database_url, workdir, "room") as first:
        env = {
            **first.env,
            "SHAOBAO_WORKER_WEB_PORT": str(free_port()),
            "SHAOBAO_WORKER_DATADIR": str(workdir / "worker2"),
        }
        second = start_worker(env, workdir / "worker2.log")
        try:
            deadline = time.monotonic() + 120
            group = first.names.app_id
            while run_coroutine(group_members(endpoints.kafka, group)) != 2:
                assert time.monotonic() < deadline, f"the second worker did not join; see {workdir}"
                time.sleep(0.5)
            yield first
        finally:
            stop_process(second)


def room_settings(pipeline: Pipeline) -> Settings:
    return Settings.from_env({**pipeline.env, "SHAOBAO_ROOM_PASSWORD": PASSWORD})


async def logged_in(web: Web) -> None:
    answer = await web.client.post("/api/room/login", json={"name": "张值班", "secret": PASSWORD})
    assert answer.status_code == 200, answer.text
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")


async def board(web: Web) -> dict[str, Any]:
    answer = await web.client.get("/api/room/board")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def manual_ticket(pipeline: Pipeline, text: str) -> str:
    """A ticket the router could not place, as intake would open it."""
    source = appeal(text=text)
    triage = TriageDecision(
        appeal_type="help",
        category="drainage.sewer",
        urgency="normal",
        town=None,
        disposition="manual",
        confidence=0.3,
        explanation=("地点不明，转人工派单",),
        suggested_lead="zjj",
        town_candidates=("baimaqiao", "yutan"),
    )
    ticket = f"manual-{source['source_id']}"
    command = receive_command(Appeal.model_validate(source), ticket, triage, datetime.now(UTC))
    await produce(
        pipeline.settings.kafka,
        pipeline.names.commands,
        [(ticket.encode(), command.model_dump_json().encode())],
    )
    return ticket


async def tickets_with(db: asyncpg.Connection, marker: str, status: str) -> list[str]:
    rows = await db.fetch(
        "SELECT ticket_id FROM tickets WHERE state->'appeal'->>'text' LIKE $1 AND status = $2",
        f"%{marker}%",
        status,
    )
    return sorted(r["ticket_id"] for r in rows)


def counts_from_the_log(records: list[tuple[bytes | None, bytes]]) -> dict[str, dict[str, int]]:
    """The queues per unit computed from `tickets.events` alone, read whole."""
    logs: dict[str, list[TicketEvent]] = {}
    for _, value in records:
        event = TICKET_EVENT.validate_json(value)
        logs.setdefault(event.ticket_id, []).append(event)
    states: list[TicketState] = []
    for events in logs.values():
        state = replay(sorted(events, key=lambda e: e.version))
        if state is not None:
            states.append(state)
    return {unit: row.counts for unit, row in unit_queues(RoomTicket(state=s) for s in states).items()}


RECENT_FIELDS = {
    "ticket_id",
    "status",
    "category",
    "urgency",
    "town",
    "lead_unit",
    "received_at",
    "text",
    "lead_name",
}


async def test_the_room_counts_equal_the_events_produced_and_the_event_log_with_two_workers(
    two_workers: Pipeline,
) -> None:
    pipeline = two_workers
    marker = uuid.uuid4().hex[:6]
    async with running_web(room_settings(pipeline)) as web:
        assert (await web.client.get("/api/room/board")).status_code == 401
        await logged_in(web)
        records: list[tuple[bytes | None, bytes]] = [
            encoded(
                appeal(text=f"白马桥街道凤凰城小区门口下水道堵塞，污水外溢到路面，请疏通。编号{marker}-{i}")
            )
            for i in range(DISPATCHED)
        ]
        await produce(pipeline.settings.kafka, pipeline.names.intake, records)
        manual = [
            await manual_ticket(pipeline, f"有个问题想反映一下，回电138-0731-{i:04d}，编号{marker}-m{i}")
            for i in range(MANUAL)
        ]
        conn = await asyncpg.connect(pipeline.settings.database_url)
        try:
            dispatched = await eventually(
                lambda: _all(tickets_with(conn, marker, "dispatched"), DISPATCHED), timeout_s=60
            )
            for ticket in dispatched[:SIGNED]:
                await act(pipeline, "zjj", ticket, "sign")
            await eventually(lambda: _all(tickets_with(conn, marker, "signed"), SIGNED), timeout_s=60)
        finally:
            await conn.close()

        async def settled() -> dict[str, Any] | None:
            shown = await board(web)
            units = {row["key"]: row["counts"] for row in shown["units"]}
            zjj = units.get("zjj", {})
            return shown if (zjj.get("in_progress"), shown["manual_total"]) == (SIGNED, MANUAL) else None

        shown = await eventually(settled, timeout_s=30)
        units = {row["key"]: row["counts"] for row in shown["units"]}
        assert units["zjj"] == {
            "awaiting_sign": DISPATCHED - SIGNED,
            "in_progress": SIGNED,
            "at_risk": 0,
            "overdue": 0,
            "awaiting_callback": 0,
        }
        assert units["baimaqiao"]["awaiting_sign"] == DISPATCHED  # the co unit has not signed
        assert sorted(item["ticket_id"] for item in shown["manual"]) == sorted(manual)
        # The wall is seen by visitors: the callers' numbers are masked in what it shows.
        assert sorted(item["text"].split("，")[1] for item in shown["manual"]) == [
            f"回电138****{i:04d}" for i in range(MANUAL)
        ]
        queues = (await web.client.get("/api/queues")).json()
        mine = [t["text"] for t in queues["recent"] if f"{marker}-m" in t["text"]]
        assert sorted(t.split("，")[1] for t in mine) == [f"回电138****{i:04d}" for i in range(MANUAL)]
        assert all(set(t) == RECENT_FIELDS for t in queues["recent"])
        assert shown["rates"]["received"] == DISPATCHED + MANUAL
        log = await read_all(pipeline.settings.kafka, pipeline.names.events)
        assert units == counts_from_the_log(log)


async def test_a_manual_ticket_is_dispatched_from_the_room_in_one_request(two_workers: Pipeline) -> None:
    pipeline = two_workers
    async with running_web(room_settings(pipeline)) as web:
        await logged_in(web)
        ticket = await manual_ticket(pipeline, f"路灯不亮好几天了 {uuid.uuid4().hex[:6]}")

        async def queued() -> dict[str, Any] | None:
            items = {item["ticket_id"]: item for item in (await board(web))["manual"]}
            return items.get(ticket)

        item = await eventually(queued, timeout_s=30)
        assert (item["suggested_lead"], item["town_candidates"]) == ("zjj", ["baimaqiao", "yutan"])
        body = {"lead": "zjj", "co": ["baimaqiao"], "town": "baimaqiao", "version": item["version"]}
        answer = await web.client.post(f"/api/room/tickets/{ticket}/dispatch", json=body)
        assert answer.status_code == 202, answer.text

        async def dispatched() -> dict[str, Any] | None:
            # The status comes from the live feed, the timeline from PostgreSQL (the sink's
            # batch behind it): wait for both.
            page = (await web.client.get(f"/api/room/tickets/{ticket}")).json()
            stored = any(e["type"] == "ticket_dispatched" for e in page["timeline"])
            return dict(page) if page["status"] == "dispatched" and stored else None

        page = await eventually(dispatched, timeout_s=30)
        assert (page["lead"], page["co"], page["town"]) == ("zjj", ["baimaqiao"], "baimaqiao")
        dispatch = [e for e in page["timeline"] if e["type"] == "ticket_dispatched"]
        assert [(e["details"]["by"], e["details"]["operator"]) for e in dispatch] == [("person", "张值班")]
        assert ticket not in {item["ticket_id"] for item in (await board(web))["manual"]}
        again = await web.client.post(f"/api/room/tickets/{ticket}/dispatch", json=body)
        assert again.status_code == 409


async def test_the_room_needs_its_password_and_its_cookie(two_workers: Pipeline) -> None:
    async with running_web(room_settings(two_workers)) as web:
        wrong = await web.client.post("/api/room/login", json={"name": "x", "secret": "guess"})
        assert wrong.status_code == 401
        assert (await web.client.get("/api/room/tickets")).status_code == 401
        assert (await web.client.get("/api/stream")).status_code == 401
        assert (await web.client.get("/api/queues")).status_code == 401
        page = await web.client.get("/")
        assert (page.status_code, page.headers["location"]) == (303, "/login")
        web.client.cookies.set("shaobao_room", "eyJ4Ijoi.9999999999.forged")
        assert (await web.client.get("/api/room/me")).status_code == 401


async def _all(rows: Any, count: int) -> list[str] | None:
    found: list[str] = await rows
    return found if len(found) == count else None


async def test_an_event_is_pushed_to_every_open_stream_with_the_board_that_counts_it(
    two_workers: Pipeline,
) -> None:
    settings = room_settings(two_workers)
    store = AsyncpgTicketStore(settings.database_url)
    publisher = AiokafkaActionProducer(settings.kafka, two_workers.names)
    ports = room_ports(settings, store)
    room = create_control_room(settings, ports, load_jurisdiction(settings.jurisdiction_file), publisher)
    await room.live.start()
    try:
        await asyncio.wait_for(room.live.ready.wait(), 30)
        streams = [room.live.subscribe(), room.live.subscribe()]
        record = appeal(text=f"凤凰城小区门口下水道堵塞，污水外溢 {uuid.uuid4().hex[:6]}")
        await produce(settings.kafka, two_workers.names.intake, [encoded(record)])
        for stream in streams:
            ticket = await _pushed(stream, room, record["source_id"])
            board = room.live.view.tickets[ticket]
            assert (board.state.lead, board.state.co) == ("zjj", ("baimaqiao",))
    finally:
        await room.live.stop()
        await publisher.stop()
        await store.close()


async def _pushed(stream: Subscriber, room: ControlRoom, source_id: str) -> str:
    """The ticket of `source_id` once a stream is told it changed, and a board came with it."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        messages = await stream.next(timeout_s=5)
        changed = [json.loads(m.split("data: ", 1)[1]) for m in messages if m.startswith("event: tickets")]
        assert messages and messages[-1].startswith("event: board")
        for ticket_id in (t for ids in changed for t in ids):
            held = room.live.view.tickets.get(ticket_id)
            if held is not None and held.state.appeal.source_id == source_id:
                return str(ticket_id)
    raise AssertionError(f"no stream message about {source_id}")


async def test_a_control_room_token_logs_in_and_a_units_token_does_not(two_workers: Pipeline) -> None:
    settings = Settings.from_env(two_workers.env)  # no password: tokens only
    store = AsyncpgTicketStore(settings.database_url)
    try:
        tokens = AsyncpgTokenStore(store)
        supervisor = await tokens.issue(Principal(subject="王督办", role="supervisor"))
        unit = await tokens.issue(Principal(subject="zjj", role="unit"))
    finally:
        await store.close()
    async with running_web(settings) as web:
        refused = await web.client.post("/api/room/login", json={"name": "x", "secret": unit.token})
        assert refused.status_code == 401
        empty = await web.client.post("/api/room/login", json={"name": "x", "secret": ""})
        assert empty.status_code == 401  # no password configured: an empty one is no password
        answer = await web.client.post(
            "/api/room/login", json={"name": "ignored", "secret": supervisor.token}
        )
        assert answer.json() == {"operator": "王督办", "role": "supervisor"}
        assert (await web.client.get("/api/room/me")).json() == {"operator": "王督办", "role": "supervisor"}
