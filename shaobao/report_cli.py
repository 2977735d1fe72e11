"""`shaobao report daily|weekly|tenday|monthly` and `shaobao verify`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from domain.reporting import PeriodKind, RateWeights
from infra.postgres.reports import StoreReports
from infra.postgres.store import AsyncpgTicketStore
from infra.reference import load_jurisdiction
from infra.verify import Verification, repair, verify_settled
from streams.names import TopicNames
from streams.settings import Settings
from web.reports.routes import FORMATS, render


def report_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shaobao report", description="日报、周报、旬报、月报")
    parser.add_argument("period", choices=[k.value for k in PeriodKind])
    parser.add_argument("--date", type=date.fromisoformat, help="a day in the period (default: today)")
    parser.add_argument("--format", choices=FORMATS, default="html")
    parser.add_argument("--out", type=Path, help="write here (default: standard output)")
    parser.add_argument(
        "--basically-satisfied-weight", type=float, default=1.0, help="the weight of 基本满意 in 满意率"
    )
    return parser


def run_report(argv: list[str], settings: Settings) -> int:
    args = report_parser().parse_args(argv)
    jurisdiction = load_jurisdiction(settings.jurisdiction_file)
    now = datetime.now(UTC)

    async def build() -> bytes:
        store = AsyncpgTicketStore(settings.database_url, jurisdiction)
        try:
            weights = RateWeights(basically_satisfied=args.basically_satisfied_weight)
            report = await StoreReports(jurisdiction, weights).report(
                await store.pool(), PeriodKind(args.period), args.date, now
            )
        finally:
            await store.close()
        return render(args.format, report, now)[0]

    body = asyncio.run(build())
    if args.out is None:
        sys.stdout.buffer.write(body)
    else:
        args.out.write_bytes(body)
        print(f"wrote {args.out} ({len(body)} bytes)", file=sys.stderr)
    return 0


def run_verify(argv: list[str], settings: Settings) -> int:
    parser = argparse.ArgumentParser(
        prog="shaobao verify", description="compare PostgreSQL with tickets.events; exit 1 on any difference"
    )
    parser.add_argument("--limit", type=int, default=50, help="differences printed at most")
    parser.add_argument(
        "--repair", action="store_true", help="rewrite every differing ticket from the log, then check again"
    )
    args = parser.parse_args(argv)
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    topic = TopicNames(settings.topic_prefix).events
    # A difference must outlast the sink's lag (read again 3 s later) to count on a live system.
    result = asyncio.run(verify_settled(settings.kafka, topic, settings.database_url))
    _print_verification(result, topic, args.limit)
    if args.repair and result.differences:
        rewritten = asyncio.run(repair(settings.database_url, result))
        print(f"repaired {len(rewritten)} tickets from {topic}: {', '.join(rewritten[: args.limit])}")
        result = asyncio.run(verify_settled(settings.kafka, topic, settings.database_url))
        _print_verification(result, topic, args.limit)
    return 1 if result.differences else 0


def _print_verification(result: Verification, topic: str, limit: int) -> None:
    found = result.differences
    for difference in found[:limit]:
        print(difference)
    if len(found) > limit:
        print(f"… and {len(found) - limit} more")
    if result.refused or result.undecodable:
        print(
            f"{len(result.refused)} events on {topic} do not follow their ticket's log and "
            f"{result.undecodable} records are no ticket event: not held by the store (dead letters)"
        )
    print(f"{len(found)} differences between {topic} and the store")
