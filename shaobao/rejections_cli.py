"""`shaobao rejected`: what intake refused, and putting it back once fixed.

    shaobao rejected list [--reason R] [--limit N] [--json]
    shaobao rejected replay ID... [--fix-key]

`list` reads `appeals.rejected` from the beginning without a consumer group and shows the
newest N (oldest first): id, time, reason, message, where it came from, a preview of the
original. `replay` puts each original back on `appeals.intake` as it was produced (base64
originals decoded), with its old key or, with --fix-key, `channel:source_id` from the
payload. A replayed record goes through intake again: if it is still bad it is rejected
again, under a new id (the intake topic, partition and offset it was replayed to).
Rows and mails refused by `shaobao import` are listed too, but are fixed at the source
and imported again, not replayed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TextIO, get_args
from zoneinfo import ZoneInfo

from aiokafka.errors import KafkaError

from infra.reference import load_jurisdiction
from infra.rejections import (
    KeyNotFixable,
    StoredRejection,
    corrected_key,
    is_from_import,
    original_bytes,
    read_rejections,
    resubmit,
)
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
    return parser


def run_rejected(argv: list[str], out: TextIO | None = None) -> int:
    """Entry point for `shaobao rejected ...`; returns the process exit code."""
    args = build_parser().parse_args(argv)
    out = out or sys.stdout
    settings = Settings.from_env()
    names = TopicNames(settings.topic_prefix)
    try:
        stored = asyncio.run(read_rejections(settings.kafka_bootstrap_servers, names.rejected))
    except (LookupError, TimeoutError, OSError) as exc:
        print(f"shaobao rejected: {exc}", file=sys.stderr)
        return 2
    if args.action == "list":
        zone = ZoneInfo(load_jurisdiction(settings.jurisdiction_file).timezone)
        return list_rejections(stored, args.reason, args.limit, args.json, zone, out)
    return replay(settings, stored, args.ids, args.fix_key, out)


def list_rejections(
    stored: list[StoredRejection], reason: str | None, limit: int, as_json: bool, zone: ZoneInfo, out: TextIO
) -> int:
    unreadable = [s for s in stored if s.rejection is None]
    chosen = sorted(
        (s.rejection for s in stored if s.rejection and reason in (None, s.rejection.reason)),
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
    return (
        f"{rejection.rejection_id}  {when}  {rejection.reason}\n"
        f"    {rejection.message}\n"
        f"    key {rejection.key!r} · from {where}\n"
        f"    original ({rejection.original_encoding}, {len(data)} bytes): {preview(data)}\n"
    )


def preview(data: bytes) -> str:
    """The start of the original, one line, control characters shown as escapes."""
    text = data[: PREVIEW_CHARS * 4].decode("utf-8", "backslashreplace")
    shown = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in text)
    return shown[:PREVIEW_CHARS] + ("…" if len(shown) > PREVIEW_CHARS else "")


def replay(settings: Settings, stored: list[StoredRejection], ids: list[str], fix: bool, out: TextIO) -> int:
    intake = TopicNames(settings.topic_prefix).intake
    by_id: dict[str, AppealRejected] = {}
    for s in stored:
        if s.rejection is not None:
            by_id.setdefault(s.rejection.rejection_id, s.rejection)  # a re-processed record repeats its id
    planned: list[tuple[str, bytes | None, bytes, str]] = []
    for rejection_id in ids:
        try:
            planned.append(_plan(rejection_id, by_id.get(rejection_id), fix))
        except ValueError as exc:
            print(f"{rejection_id}: not replayed: {exc}", file=out)
    records = [(key, value) for _, key, value, _ in planned]
    try:
        placed = asyncio.run(resubmit(settings.kafka_bootstrap_servers, intake, records)) if records else []
    except KafkaError as exc:
        # Some may have landed: replaying them again is safe, intake keeps one ticket per key.
        print(f"shaobao rejected replay: Kafka failed: {exc!r}", file=sys.stderr)
        return 3
    for (rejection_id, key, _, change), (partition, offset) in zip(planned, placed, strict=True):
        shown_key = key.decode("utf-8", "replace") if key is not None else None
        print(
            f"{rejection_id}: replayed to {intake} partition {partition} offset {offset}, "
            f"key {shown_key!r}{change}; if still bad it is rejected again as {intake}:{partition}:{offset}",
            file=out,
        )
    return 0 if len(planned) == len(ids) else 1


def _plan(rejection_id: str, found: AppealRejected | None, fix: bool) -> tuple[str, bytes | None, bytes, str]:
    """What to send for one id: (id, key, value, what changed); ValueError if nothing can be."""
    if found is None:
        raise ValueError("no rejection with this id (see `shaobao rejected list`)")
    if is_from_import(found):
        raise ValueError(f"refused by an import ({found.message}); fix the file and import it again")
    value = original_bytes(found)
    old = found.key
    if not fix:
        return rejection_id, old.encode() if old is not None else None, value, ""
    try:
        key = corrected_key(value)
    except KeyNotFixable as exc:
        raise ValueError(f"cannot fix the key: {exc}") from exc
    change = "" if key == old else f" (was {old!r})"
    return rejection_id, key.encode(), value, change


if __name__ == "__main__":
    sys.exit(run_rejected(sys.argv[1:]))
