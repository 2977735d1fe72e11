"""`shaobao dead`: what the agents could not process, and putting it back once fixed.

    shaobao dead list [--agent A] [--reason R] [--limit N] [--json]
    shaobao dead replay ID... [--wait S]
    shaobao dead replay ID --corrected FILE

`list` reads `dead.letters` from the beginning (no consumer group) and shows the newest N,
oldest first: id (`<source topic>:<partition>:<offset>:<agent>`), when, agent, reason, error, a preview.
`replay` puts each original back on its source topic with its key (with --corrected FILE,
FILE's bytes replace the value of the one ID given), then waits (--wait, default 20 s; 0: do
not) and says what became of it: processed (the workers' group committed past it), or dead
again under a new id. A value kept only in part (over 256 KiB) is replayed only with --corrected.
Exit status: 0 every record was processed (or sent, without --wait); 1 something was not
replayed, died again or was not seen; 2 the topic cannot be read; 3 Kafka failed while sending.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import TextIO, get_args

from aiokafka.errors import KafkaError, TopicAuthorizationFailedError

from infra.kafka.dead_letters import StoredLetter, fates, read_dead_letters
from infra.kafka.rejections import resubmit
from schemas.dead_letters import DeadLetter, DeadLetterReason
from streams.kept import restore
from streams.names import TopicNames
from streams.settings import Settings

PREVIEW_CHARS = 100
# A dead letter to put back: its id, source topic, key and value.
_Resent = tuple[str, str, bytes | None, bytes]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shaobao dead", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="action", required=True)
    listing = sub.add_parser("list", help="the dead letters, newest last")
    listing.add_argument("--agent", default=None, help="only this agent's (e.g. record_ticket_events)")
    listing.add_argument("--reason", choices=get_args(DeadLetterReason), default=None)
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true", help="one dead letter per line, as on the topic")
    replay = sub.add_parser("replay", help="put dead letters back on their source topics")
    replay.add_argument("ids", nargs="+")
    replay.add_argument("--corrected", type=Path, default=None, help="the fixed value, for one ID")
    replay.add_argument("--wait", type=float, default=20.0, help="seconds to wait for what became of each")
    return parser


def run_dead(argv: list[str], settings: Settings | None = None, out: TextIO = sys.stdout) -> int:
    args = build_parser().parse_args(argv)
    logging.getLogger("aiokafka").setLevel(logging.WARNING)  # its INFO lines would bury the listing
    settings = settings or Settings.from_env()
    names = TopicNames(settings.topic_prefix)
    try:
        stored = asyncio.run(read_dead_letters(settings.kafka, names.dead_letters))
    except (LookupError, TimeoutError, KafkaError, OSError) as exc:
        print(f"cannot read {names.dead_letters}: {exc}", file=sys.stderr)
        return 2
    if args.action == "list":
        return _list(stored, args, out)
    return _replay(stored, args, settings, names, out)


def _list(stored: list[StoredLetter], args: argparse.Namespace, out: TextIO) -> int:
    letters = [
        s.letter
        for s in stored
        if s.letter is not None
        and (args.agent is None or s.letter.agent == args.agent)
        and (args.reason is None or s.letter.reason == args.reason)
    ]
    shown = letters[-args.limit :] if args.limit > 0 else letters
    for letter in shown:
        print(letter.model_dump_json() if args.json else _line(letter), file=out)
    if not args.json:
        unreadable = sum(1 for s in stored if s.letter is None)
        extra = f"; {unreadable} records on the topic are not dead letters" if unreadable else ""
        print(f"{len(letters)} dead letters (showing {len(shown)}){extra}", file=out)
    return 0


def _line(letter: DeadLetter) -> str:
    value = restore(letter.value, letter.value_encoding) or b""
    text = value[:PREVIEW_CHARS].decode("utf-8", "replace")
    preview = "".join(c if c.isprintable() else "·" for c in text)
    size = f"{letter.value_length} bytes" + (", kept in part" if letter.truncated else "")
    return (
        f"{letter.dead_letter_id}  {letter.dead_at.isoformat(timespec='seconds')}  {letter.agent}  "
        f"{letter.reason}  {letter.error_class}: {letter.error[:160]}".replace("\n", " ")
        + f"\n    {size}: {preview}"
    )


def _replay(
    stored: list[StoredLetter], args: argparse.Namespace, settings: Settings, names: TopicNames, out: TextIO
) -> int:
    if args.corrected is not None and len(args.ids) != 1:
        print("--corrected takes exactly one ID", file=sys.stderr)
        return 1
    chosen, status = _chosen(stored, args, out)
    placed = _send(chosen, settings, out)
    if placed is None:
        return 3
    if not placed or args.wait <= 0:
        return status
    found = asyncio.run(fates(settings.kafka, names.dead_letters, names.app_id, placed, args.wait))
    for ident, fate in found.items():
        print(f"{ident}: {fate.kind} ({fate.detail})", file=out)
        if fate.kind != "processed":
            status = 1
    return status


def _chosen(stored: list[StoredLetter], args: argparse.Namespace, out: TextIO) -> tuple[list[_Resent], int]:
    """(id, topic, key, value) of each dead letter named that can be replayed, and the exit status so
    far: 1 when one is unknown or kept only in part without --corrected."""
    by_id = {s.letter.dead_letter_id: s.letter for s in stored if s.letter is not None}
    status = 0
    chosen: list[_Resent] = []
    for ident in args.ids:
        letter = by_id.get(ident)
        if letter is None:
            print(f"{ident}: no such dead letter", file=out)
            status = 1
            continue
        if args.corrected is None and letter.truncated:
            print(
                f"{ident}: only the first 256 KiB of {letter.value_length} bytes were kept: use --corrected",
                file=out,
            )
            status = 1
            continue
        value = (
            args.corrected.read_bytes()
            if args.corrected is not None
            else restore(letter.value, letter.value_encoding)
        )
        chosen.append((ident, letter.source.topic, restore(letter.key, letter.key_encoding), value or b""))
    return chosen, status


def _send(chosen: list[_Resent], settings: Settings, out: TextIO) -> dict[str, tuple[str, int, int]] | None:
    """Put each record back on its topic: where it landed, by id; None when Kafka failed."""
    placed: dict[str, tuple[str, int, int]] = {}
    try:
        for ident, topic, key, value in chosen:
            [(partition, offset)] = asyncio.run(resubmit(settings.kafka, topic, [(key, value)]))
            placed[ident] = (topic, partition, offset)
            print(f"{ident}: sent again as {topic}:{partition}:{offset}", file=out)
    except (KafkaError, OSError) as exc:
        print(f"Kafka failed while sending: {exc}", file=sys.stderr)
        if isinstance(exc, TopicAuthorizationFailedError):
            print(
                f"{settings.kafka.principal} may not write that topic; a unit's actions and the ticket log"
                " take a replay only from admin: KAFKA_CLIENT_FILE=.state/kafka/clients/admin.properties",
                file=sys.stderr,
            )
        return None
    return placed
