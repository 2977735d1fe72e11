"""`shaobao leadership list`: the dispatch meeting list (逢"6"调度).

    shaobao leadership list [--date YYYY-MM-DD] [--format markdown|text] [--no-publish]

Compiles what is outstanding for the meeting on `--date` (default: the latest meeting day
of the jurisdiction's `leadership_dispatch_days` on or before today), keeps it in
PostgreSQL (`leadership_lists`), publishes it as a `leadership_list` event on `alerts`,
and prints the report.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import asyncpg
from aiokafka import AIOKafkaProducer

from domain.jurisdiction import Jurisdiction
from domain.reporting import MeetingList, latest_dispatch_day, meeting_list_alert, render
from infra.postgres.meeting_list import compile_list, record_list
from infra.postgres.migrate import migrate
from infra.reference import load_jurisdiction
from streams.names import TopicNames
from streams.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shaobao leadership", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action", required=True)
    listing = sub.add_parser("list", help="compile, keep, publish and print the list for a meeting")
    listing.add_argument("--date", type=date.fromisoformat, help="the meeting day (YYYY-MM-DD)")
    listing.add_argument("--format", choices=("markdown", "text"), default="markdown")
    listing.add_argument("--no-publish", action="store_true", help="do not publish the event on alerts")
    return parser


async def compile_and_keep(
    settings: Settings, jurisdiction: Jurisdiction, meeting: date, now: datetime, publish: bool
) -> MeetingList:
    conn = await asyncpg.connect(settings.database_url)
    try:
        await migrate(conn)
        listing = await compile_list(conn, meeting, jurisdiction, now)
        await record_list(conn, listing, jurisdiction)
    finally:
        await conn.close()
    if publish:
        alert = meeting_list_alert(listing, jurisdiction)
        producer = AIOKafkaProducer(**settings.kafka.producer_options())
        await producer.start()
        try:
            topic = TopicNames(settings.topic_prefix).alerts
            await producer.send_and_wait(topic, key=b"leadership", value=alert.model_dump_json().encode())
        finally:
            await producer.stop()
    return listing


def run(argv: Sequence[str], settings: Settings) -> int:
    args = _parser().parse_args(list(argv))
    jurisdiction = load_jurisdiction(settings.jurisdiction_file)
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo(jurisdiction.timezone)).date()
    meeting = args.date or latest_dispatch_day(today, jurisdiction)
    listing = asyncio.run(compile_and_keep(settings, jurisdiction, meeting, now, not args.no_publish))
    sys.stdout.write(render(listing, jurisdiction, markdown=args.format == "markdown"))
    return 0
