"""the dispatch meeting list compiled from a real PostgreSQL record: tickets' events
written by the store, the list read back, kept once per meeting, and readable."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import asyncpg

from domain.reporting import render
from infra.local.services import ServiceEndpoints
from infra.postgres.meeting_list import compile_list, record_list
from infra.postgres.store import AsyncpgTicketStore
from schemas.limits import Mark
from shaobao.launch import create_database
from tests.unit.timertools import COUNTY, TimedDesk

COMPILED_AT = datetime(2026, 10, 16, 1, 0, tzinfo=UTC)  # 09:00 in the county on the 16th


def supervised_ticket() -> TimedDesk:
    desk = TimedDesk("Fri 2026-10-09 16:00", ticket_id="L-supervised")
    desk.flag("Mon 2026-10-12 09:30", "sign", Mark.OVERDUE)
    desk.flag("Tue 2026-10-13 09:30", "sign", Mark.SUPERVISE)
    return desk


def reworked_twice() -> TimedDesk:
    desk = TimedDesk("Fri 2026-10-09 16:00", ticket_id="L-reworked")
    for day in ("Sat 2026-10-10", "Mon 2026-10-12"):
        desk.act(f"{day} 09:00", "sign", "zjj")
        desk.act(f"{day} 10:00", "complete", "zjj", reply="已处理")
        desk.control(f"{day} 11:00", "callback", outcome="dissatisfied")
        desk.control(f"{day} 12:00", "rework", reason="市民仍不满意")
    return desk


def overdue_elsewhere() -> TimedDesk:
    desk = TimedDesk("Wed 2026-09-30 10:00", ticket_id="L-early")
    desk.flag("Wed 2026-09-30 15:00", "complete", Mark.OVERDUE)  # before the last meeting (10-06)
    desk.flag("Thu 2026-10-08 09:30", "sign", Mark.OVERDUE)  # after it
    return desk


async def test_the_list_for_the_16th_shows_what_is_outstanding_and_is_kept_once(
    endpoints: ServiceEndpoints,
) -> None:
    url = await create_database(endpoints.database_url, f"shaobao_lead{uuid.uuid4().hex[:8]}")
    store = AsyncpgTicketStore(url)
    desks = [supervised_ticket(), reworked_twice(), overdue_elsewhere()]
    for desk in desks:
        await store.record(desk.log)
    await store.close()

    conn = await asyncpg.connect(url)
    try:
        listing = await compile_list(conn, date(2026, 10, 16), COUNTY, COMPILED_AT)
        assert listing.since == date(2026, 10, 6)
        assert [(t.ticket_id, t.detail) for t in listing.supervised] == [
            ("L-supervised", "督办（sign），自 2026-10-13")
        ]
        assert [(t.ticket_id, t.detail) for t in listing.repeated_dissatisfaction] == [
            ("L-reworked", "已发回重办 2 次")
        ]
        assert listing.clusters == ()
        # zjj: L-supervised's sign and L-early's sign after 10-06; L-early's complete was before.
        assert [(u.unit, u.overdue) for u in listing.units_most_overdue] == [("zjj", 2)]

        await record_list(conn, listing, COUNTY)
        await record_list(conn, listing, COUNTY)
        rows = await conn.fetch("SELECT meeting_date, since, counts, report FROM leadership_lists")
        assert [(r["meeting_date"], r["since"]) for r in rows] == [(date(2026, 10, 16), date(2026, 10, 6))]
        assert rows[0]["report"] == render(listing, COUNTY)
        assert '"supervised": 1' in rows[0]["counts"]
    finally:
        await conn.close()
