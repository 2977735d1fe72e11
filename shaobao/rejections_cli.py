"""`shaobao rejected`: what intake refused, and putting it back once fixed.

    shaobao rejected list [--reason R] [--limit N] [--json]
    shaobao rejected replay ID... [--fix-key] [--wait S]
    shaobao rejected replay ID --corrected FILE

`list` reads `appeals.rejected` from the beginning without a consumer group and shows the
newest N (oldest first): id, time, reason, message, where it came from, a preview of the
original. A rejection's ID is stable: `<intake topic>:<partition>:<offset>` of the record
the intake agent refused (the same record refused again after a crash keeps it, and is
shown once), or `import:<csv|mailbox>:<file>:…` for what `shaobao import` refused.

`replay` puts each original back on `appeals.intake` as it was produced (base64 originals
decoded), with its old key or, with --fix-key, `channel:source_id` from the payload; with
--corrected FILE, the JSON in FILE replaces the original of the one ID given (keyed by its
own channel:source_id). Then it waits (--wait, default 15 s; 0: do not) and says what became
of each: a new ticket, a duplicate of a ticket, or rejected again under a new id (the intake
partition and offset it was replayed to). Rows and mails refused by `shaobao import` are
replayed only with --corrected (else: fix the file and import it again), and so are records of
which only the first 256 KiB were kept (a rejection keeps no more); a key cut at 4 KiB needs
--fix-key or --corrected.
Exit status: 0 every record became a ticket or duplicate (or was sent, without --wait);
1 something was not replayed, rejected again or not seen; 2 the topic cannot be read;
3 Kafka failed while sending.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO, get_args
from zoneinfo import ZoneInfo

from aiokafka.errors import KafkaError

from infra.kafka.rejections import (
    KeyNotFixable,
    StoredRejection,
    corrected_key,
    is_from_import,
    key_bytes,
    original_bytes,
    read_rejections,
    resubmit,
)
from infra.kafka.replay_watch import Outcome, ReplayWatch
from infra.reference import load_jurisdiction
from schemas.rejections import AppealRejected, RejectionReason
from streams.names import TopicNames
from streams.settings import Settings

PREVIEW_CHARS = 120


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shaobao rejected", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="action", required=True)
    listing = sub.add_parser("list", help="show rejected intake records, newest last")
    listing.add_argument("--reason", choices=get_args(RejectionReason))
    listing.add_argument("--limit", type=int, default=50, help="show the newest N (default 50; 0: all)")
    listing.add_argument("--json", action="store_true", help="one AppealRejected JSON per line")
    replay = sub.add_parser("replay", help="re-submit originals to appeals.intake")
    replay.add_argument("ids", nargs="+", metavar="ID")
    replay.add_argument("--fix-key", action="store_true", help="key = channel:source_id of the payload")
    replay.add_argument("--corrected", type=Path, metavar="FILE", help="send this JSON instead (one ID only)")
    replay.add_argument("--wait", type=float, default=15.0, metavar="S", help="seconds to wait for outcomes")
    return parser


def run_rejected(argv: list[str], out: TextIO | None = None) -> int:
    """Entry point for `shaobao rejected ...`; returns the process exit code."""
    args = build_parser().parse_args(argv)
    out = out or sys.stdout
    # The operator reads a summary; aiokafka's subscription chatter would bury it.
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    settings = Settings.from_env()
    names = TopicNames(settings.topic_prefix)
    try:
        stored = asyncio.run(read_rejections(settings.kafka, names.rejected))
    except (LookupError, TimeoutError, OSError, KafkaError) as exc:
        print(f"shaobao rejected: {exc}", file=sys.stderr)
        return 2
    if args.action == "list":
        zone = ZoneInfo(load_jurisdiction(settings.jurisdiction_file).timezone)
        return list_rejections(stored, args.reason, args.limit, args.json, zone, out)
    if args.corrected is not None and len(args.ids) != 1:
        print("shaobao rejected replay: --corrected takes exactly one ID", file=sys.stderr)
        return 2
    corrected = args.corrected.read_bytes() if args.corrected is not None else None
    return replay(settings, stored, args.ids, Replay(args.fix_key, corrected, args.wait), out)


def list_rejections(
    stored: list[StoredRejection], reason: str | None, limit: int, as_json: bool, zone: ZoneInfo, out: TextIO
) -> int:
    unreadable = [s for s in stored if s.rejection is None]
    chosen = sorted(
        (r for r in unique(stored).values() if reason in (None, r.reason)),
        key=lambda r: (r.rejected_at, r.rejection_id),
    )
    shown = chosen[-limit:] if limit > 0 else chosen
    for rejection in shown:
        out.write(rejection.model_dump_json() + "\n" if as_json else describe(rejection, zone))
    if not as_json:
        which = f" with reason {reason}" if reason else ""
        print(f"{len(shown)} shown of {len(chosen)} rejections{which}", file=out)
        for bad in unreadable:
            print(f"unreadable record at partition {bad.partition} offset {bad.offset}", file=out)
    return 0


def describe(rejection: AppealRejected, zone: ZoneInfo) -> str:
    """Four lines for people: id, time, reason; message; key and source; the original."""
    source = rejection.source
    where = (
        source.topic.removeprefix("import:")
        if is_from_import(rejection)
        else f"{source.topic} partition {source.partition} offset {source.offset}"
    )
    when = rejection.rejected_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    data = original_bytes(rejection)
    size = f"{len(data)} bytes"
    if rejection.original_truncated:
        size = f"first {len(data)} of {rejection.original_length} bytes, sha256 {rejection.original_sha256}"
    return (
        f"{rejection.rejection_id}  {when}  {rejection.reason}\n"
        f"    {rejection.message}\n"
        f"    key {_shown_key(rejection)} · from {where}\n"
        f"    original ({rejection.original_encoding}, {size}): {preview(data)}\n"
    )


def _shown_key(rejection: AppealRejected) -> str:
    if rejection.key_encoding == "utf-8" and not rejection.key_truncated:
        return repr(rejection.key)
    key = key_bytes(rejection) or b""
    return f"{key[:PREVIEW_CHARS]!r}" + (" (cut)" if rejection.key_truncated else "")


def preview(data: bytes) -> str:
    """The start of the original, one line, control characters shown as escapes."""
    text = data[: PREVIEW_CHARS * 4].decode("utf-8", "backslashreplace")
    shown = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in text)
    return shown[:PREVIEW_CHARS] + ("…" if len(shown) > PREVIEW_CHARS else "")


def unique(stored: list[StoredRejection]) -> dict[str, AppealRejected]:
    """Rejections by id, the first of each: a record refused again after a crash repeats its id."""
    by_id: dict[str, AppealRejected] = {}
    for s in stored:
        if s.rejection is not None:
            by_id.setdefault(s.rejection.rejection_id, s.rejection)
    return by_id


@dataclass(frozen=True)
class Replay:
    fix_key: bool
    corrected: bytes | None
    wait_s: float


Planned = tuple[str, bytes | None, bytes, str]  # (rejection id, key, value, what changed)


def replay(
    settings: Settings, stored: list[StoredRejection], ids: list[str], how: Replay, out: TextIO
) -> int:
    by_id = unique(stored)
    planned: list[Planned] = []
    for rejection_id in ids:
        try:
            planned.append(_plan(rejection_id, by_id.get(rejection_id), how))
        except ValueError as exc:
            print(f"{rejection_id}: not replayed: {exc}", file=out)
    try:
        placed, outcomes = asyncio.run(_send_and_watch(settings, planned, how.wait_s))
    except (KafkaError, TimeoutError) as exc:
        # Some may have landed: replaying them again is safe, intake keeps one ticket per key.
        print(f"shaobao rejected replay: Kafka failed: {exc!r}", file=sys.stderr)
        return 3
    intake = TopicNames(settings.topic_prefix).intake
    settled = 0
    for (rejection_id, key, _, change), (partition, offset) in zip(planned, placed, strict=True):
        shown_key = key.decode("utf-8", "replace") if key is not None else None
        sent = f"{rejection_id}: replayed to {intake} {partition}:{offset}, key {shown_key!r}{change}"
        outcome = outcomes.get((partition, offset))
        settled += outcome is not None and outcome.kind != "rejected"
        print(f"{sent} → {_said(outcome, how.wait_s)}", file=out)
    if how.wait_s <= 0:
        return 0 if len(placed) == len(ids) else 1
    return 0 if settled == len(ids) else 1


def _said(outcome: Outcome | None, wait_s: float) -> str:
    if outcome is None:
        return "sent" if wait_s <= 0 else f"no outcome seen in {wait_s:.0f} s (is the worker running?)"
    return {
        "ticket": f"ticket {outcome.detail} opened",
        "duplicate": f"a duplicate, recorded on ticket {outcome.detail}",
        "rejected": f"rejected again as {outcome.detail}",
    }[outcome.kind]


async def _send_and_watch(
    settings: Settings, planned: list[Planned], wait_s: float
) -> tuple[list[tuple[int, int]], dict[tuple[int, int], Outcome]]:
    if not planned:
        return [], {}
    names = TopicNames(settings.topic_prefix)
    kafka = settings.kafka
    watch = ReplayWatch(kafka, names.commands, names.rejected, names.intake) if wait_s > 0 else None
    try:
        if watch is not None:
            await watch.start()
        placed = await resubmit(kafka, names.intake, [(key, value) for _, key, value, _ in planned])
        outcomes = await watch.wait(set(placed), wait_s) if watch is not None else {}
    finally:
        if watch is not None:
            await watch.stop()
    return placed, outcomes


def _plan(rejection_id: str, found: AppealRejected | None, how: Replay) -> Planned:
    """What to send for one id; ValueError if nothing can be."""
    if found is None:
        raise ValueError("no rejection with this id (see `shaobao rejected list`)")
    if how.corrected is not None:
        try:
            key = corrected_key(how.corrected)
        except KeyNotFixable as exc:
            raise ValueError(f"the corrected JSON: {exc}") from exc
        return rejection_id, key.encode(), how.corrected, " (corrected JSON)"
    if is_from_import(found):
        raise ValueError(f"refused by an import ({found.message}); fix the file and import it again")
    if found.original_truncated:
        # Only the start was kept: sent as is, it would be a different (and broken) record.
        raise ValueError(
            f"only the first {len(original_bytes(found))} of its {found.original_length} bytes were kept "
            f"(sha256 {found.original_sha256}); replay it with --corrected FILE"
        )
    value, old = original_bytes(found), key_bytes(found)
    if not how.fix_key:
        if found.key_truncated:
            raise ValueError(
                "only the first 4 KiB of its key were kept; replay it with --fix-key or --corrected"
            )
        return rejection_id, old, value, ""
    try:
        key = corrected_key(value)
    except KeyNotFixable as exc:
        raise ValueError(f"cannot fix the key: {exc}") from exc
    change = "" if key.encode() == old else f" (was {_shown_key(found)})"
    return rejection_id, key.encode(), value, change


if __name__ == "__main__":
    sys.exit(run_rejected(sys.argv[1:]))
