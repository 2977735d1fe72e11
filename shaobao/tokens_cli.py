"""`shaobao tokens`: bearer tokens of the HTTP API, stored only as their SHA-256.

    shaobao tokens issue --unit CODE [--name LABEL]          a unit's system
    shaobao tokens issue --role control_room|supervisor|operator --name NAME
                                                            a control-room person, or a desk operator (坐席)
    shaobao tokens issue --intake CHANNEL --name CLIENT      an intake client (HTTP intake, Open311 POST)
    shaobao tokens list                                     ids (hash prefixes), holders, state
    shaobao tokens revoke ID_PREFIX                         revoke one active token

The token is printed once, when issued; nothing can show it again.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import TextIO

from domain.access import Principal, intake_client
from infra.postgres.store import AsyncpgTicketStore
from infra.postgres.tokens import AsyncpgTokenStore, TokenNotFound, TokenRecord
from infra.reference import load_jurisdiction
from streams.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shaobao tokens", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action", required=True)
    issue = sub.add_parser("issue", help="issue a token (printed once)")
    holder = issue.add_mutually_exclusive_group(required=True)
    holder.add_argument("--unit", help="a unit code of the jurisdiction: the token is that unit")
    holder.add_argument(
        "--role",
        choices=("control_room", "supervisor", "operator"),
        help="a control-room person's role, or a desk operator (坐席)",
    )
    holder.add_argument(
        "--intake", metavar="CHANNEL", help="an intake key: the channel its appeals arrive by"
    )
    issue.add_argument(
        "--name", default="", help="the person (--role) or client (--intake, a-z 0-9 -); a label for --unit"
    )
    sub.add_parser("list", help="every token: id, holder, role, label, issued, revoked")
    revoke = sub.add_parser("revoke", help="revoke the active token whose id starts with PREFIX")
    revoke.add_argument("prefix")
    return parser


def _principal(args: argparse.Namespace, settings: Settings) -> tuple[Principal, str]:
    """The holder and the label; raises ValueError for an unknown unit or a nameless person."""
    if args.unit is not None:
        units = load_jurisdiction(settings.jurisdiction_file).unit_codes
        if args.unit not in units:
            raise ValueError(f"{args.unit} is not a unit of the jurisdiction ({', '.join(units)})")
        return Principal(subject=args.unit, role="unit"), args.name.strip()
    name = args.name.strip()
    if args.intake is not None:
        if not name:
            raise ValueError("--name is required with --intake: the client, which prefixes its source ids")
        client = intake_client(args.intake, name)
        return Principal(subject=client.subject, role="intake"), ""
    if not name:
        raise ValueError("--name is required with --role: the person the commands are recorded as")
    return Principal(subject=name, role=args.role), ""


def _line(record: TokenRecord) -> str:
    state = f"revoked {record.revoked_at.isoformat()}" if record.revoked_at else "active"
    holder = record.principal
    return (
        f"{record.token_id}  {holder.role:<12}  {holder.subject:<12}  {record.label or '-':<16}"
        f"  issued {record.created_at.isoformat()}  {state}"
    )


async def _run(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    store = AsyncpgTicketStore(settings.database_url)
    tokens = AsyncpgTokenStore(store)
    try:
        if args.action == "issue":
            try:
                principal, label = _principal(args, settings)
            except ValueError as exc:
                out.write(f"error: {exc}\n")
                return 2
            issued = await tokens.issue(principal, label)
            out.write(f"{_line(issued.record)}\n")
            out.write(f"token (shown once, keep it secret): {issued.token}\n")
        elif args.action == "list":
            out.writelines(f"{_line(record)}\n" for record in await tokens.list())
        else:
            try:
                revoked = await tokens.revoke(args.prefix)
            except TokenNotFound as exc:
                out.write(f"error: {exc}\n")
                return 1
            out.write(f"{_line(revoked)}\n")
        return 0
    finally:
        await store.close()


def run(argv: Sequence[str], settings: Settings, out: TextIO | None = None) -> int:
    """Entry point for `shaobao tokens ...`; returns the process exit code."""
    args = _parser().parse_args(list(argv))
    return asyncio.run(_run(args, settings, out or sys.stdout))


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:], Settings.from_env()))
