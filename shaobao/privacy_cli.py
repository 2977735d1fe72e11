"""`shaobao privacy`: erase one person from the store, and apply the store's retention.

    shaobao privacy erase --phone NUMBER [--yes]   every ticket, event, rejected original and
                                                   dead letter of the person with this mobile
    shaobao privacy retention                      delete what is past its window (SECURITY.md)

Erasure changes PostgreSQL only; it says what Kafka's logs still hold and until when. Without
--yes it asks before changing anything.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TextIO

from domain.privacy import DEAD_LETTERS_KEPT, REJECTIONS_KEPT, national_mobile
from infra.kafka.topics import MONTH_MS
from infra.postgres.erasure import AsyncpgErasure, Erased
from infra.postgres.store import AsyncpgTicketStore
from streams.settings import Settings

_INTAKE_KEPT = timedelta(milliseconds=int(MONTH_MS))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shaobao privacy", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action", required=True)
    erase = sub.add_parser("erase", help="erase one person, found by their mobile number")
    erase.add_argument("--phone", required=True, help="their mobile number, in any common form")
    erase.add_argument("--yes", action="store_true", help="do not ask before changing the store")
    sub.add_parser("retention", help="delete rejected originals, dead letters and sessions past their window")
    return parser


def what_the_logs_hold(erased: Erased, now: datetime) -> list[str]:
    """Kafka's logs cannot be rewritten: what they still hold of the person, and until when."""
    if erased.oldest is None:
        return ["Kafka: no ticket concerned them, so no log holds their appeal as a ticket."]
    intake_until = erased.oldest + _INTAKE_KEPT
    intake = (
        f"appeals.intake holds their original appeals until {intake_until:%Y-%m-%d} (30 days after receipt)"
        if intake_until > now
        else "appeals.intake no longer holds them (30 days have passed)"
    )
    return [
        "Kafka still holds, and cannot be made to forget:",
        f"- tickets.events: the events of the {erased.tickets} ticket(s) with their original words and"
        " caller, kept forever (the source of truth). A store rebuilt from the log brings them back:"
        " run this erase again after any replay.",
        f"- {intake}.",
        "- units.<code>.orders: the work orders, with the number masked (138****1234) and the name"
        " masked, for 30 days after each order.",
        "- appeals.rejected and dead.letters: raw records that held the number, kept forever"
        " (their copies in the store are deleted now).",
    ]


async def _erase(mobile: str, settings: Settings, out: TextIO) -> int:
    store = AsyncpgTicketStore(settings.database_url)
    try:
        erased = await AsyncpgErasure(store).erase_mobile(mobile, lambda line: print(line, file=sys.stderr))
    finally:
        await store.close()
    print(
        f"erased from {erased.tickets} ticket(s) and {erased.events} recorded event(s); deleted"
        f" {erased.rejections} rejected original(s) and {erased.dead_letters} dead letter(s)",
        file=out,
    )
    for line in what_the_logs_hold(erased, datetime.now(UTC)):
        print(line, file=out)
    return 0


async def _retention(settings: Settings, out: TextIO) -> int:
    store = AsyncpgTicketStore(settings.database_url)
    try:
        deleted = await AsyncpgErasure(store).apply_retention(datetime.now(UTC))
    finally:
        await store.close()
    print(
        f"deleted {deleted['appeal_rejections']} rejected original(s) older than {REJECTIONS_KEPT.days} days,"
        f" {deleted['dead_letters']} dead letter(s) older than {DEAD_LETTERS_KEPT.days} days and"
        f" {deleted['room_sessions']} ended or expired session(s)",
        file=out,
    )
    return 0


def run(argv: Sequence[str], settings: Settings, out: TextIO | None = None) -> int:
    args = _parser().parse_args(list(argv))
    out = out or sys.stdout
    if args.action == "erase":
        mobile = national_mobile(args.phone)
        if mobile is None:
            print(f"error: {args.phone!r} is not a mainland mobile number", file=out)
            return 2
        if not args.yes:
            where = settings.database_url.rsplit("@", 1)[-1]
            if input(f"Erase {mobile[:3]}****{mobile[-4:]} from {where}? [y/N] ").strip().lower() not in (
                "y",
                "yes",
            ):
                print("nothing changed", file=out)
                return 1
        return asyncio.run(_erase(mobile, settings, out))
    return asyncio.run(_retention(settings, out))
