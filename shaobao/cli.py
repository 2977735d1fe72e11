"""`shaobao`: the one command-line entry point."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable

from streams.settings import Settings


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    import faust

    from infra.migrate import migrate_url
    from infra.topics import ensure_topics
    from shaobao.bootstrap import all_topic_specs, build_worker

    streams, store, reference = build_worker(settings)
    asyncio.run(migrate_url(settings.database_url))
    created = asyncio.run(
        ensure_topics(settings.kafka_bootstrap_servers, all_topic_specs(settings, reference.jurisdiction))
    )
    if created:
        print(f"created {len(created)} topics", flush=True)
    settings.datadir.mkdir(parents=True, exist_ok=True)
    worker = faust.Worker(streams.app, loglevel=args.loglevel, workdir=str(settings.datadir))
    worker.execute_from_commandline()
    return 0


def _web(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from web.app import create_web_app

    uvicorn.run(
        create_web_app(settings), host=args.host, port=args.port or settings.web_port, log_level="warning"
    )
    return 0


def _simulate(args: argparse.Namespace, settings: Settings) -> int:
    from shaobao.simulator import simulate

    return asyncio.run(simulate(settings, rate=args.rate, count=args.count, burst_every_s=args.burst_every))


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from shaobao.supervisor import run_stack

    return run_stack(settings, rate=args.rate, simulate=not args.no_simulator)


def _topics(args: argparse.Namespace, settings: Settings) -> int:
    from infra.reference import load_jurisdiction
    from infra.topics import ensure_topics
    from shaobao.bootstrap import all_topic_specs

    specs = all_topic_specs(settings, load_jurisdiction(settings.jurisdiction_file))
    created = asyncio.run(ensure_topics(settings.kafka_bootstrap_servers, specs))
    print(f"{len(specs)} topics, {len(created)} created")
    return 0


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from infra.migrate import migrate_url

    applied = asyncio.run(migrate_url(settings.database_url))
    print(f"applied {len(applied)} migrations: {', '.join(applied) or 'none needed'}")
    return 0


def _passed_through(rest: list[str]) -> list[str]:
    return rest[1:] if rest[:1] == ["--"] else rest


def _triage(args: argparse.Namespace, settings: Settings) -> int:
    from shaobao import triage_cli

    return triage_cli.run(_passed_through(args.rest))


def _contract(args: argparse.Namespace, settings: Settings) -> int:
    from shaobao import contract_cli

    return contract_cli.run(_passed_through(args.rest))


def _services(args: argparse.Namespace, settings: Settings) -> int:
    from infra.local.__main__ import main as services_main

    return int(services_main(_passed_through(args.rest)) or 0)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shaobao", description="哨报 Shaobao: 12345 hotline dispatch on Kafka"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    worker = sub.add_parser("worker", help="run the stream worker (intake, tickets, orders, sink agents)")
    worker.add_argument("--loglevel", default="warning")
    web = sub.add_parser("web", help="run the control room and HTTP API")
    web.add_argument("--host", default="127.0.0.1")
    web.add_argument("--port", type=int, default=0)
    for name, help_text in (
        ("simulate", "feed appeals from the corpus"),
        ("run", "the whole stack, as `make run`"),
    ):
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("--rate", type=float, default=3.0, help="appeals per second on average")
        if name == "simulate":
            cmd.add_argument("--count", type=int, default=0, help="stop after this many (0: never)")
            cmd.add_argument(
                "--burst-every", type=float, default=20.0, help="seconds between bursts (0: none)"
            )
        else:
            cmd.add_argument("--no-simulator", action="store_true")
    sub.add_parser("topics", help="create the project's topics")
    sub.add_parser("migrate", help="apply database migrations")
    for name, help_text in (
        ("triage", "triage appeals from a JSONL file"),
        ("services", "local Kafka/PostgreSQL: up, down, status"),
        ("contract", "publish the wire contract: write or check schemas/json and schemas/asyncapi.yaml"),
    ):
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "worker": _worker,
    "web": _web,
    "simulate": _simulate,
    "run": _run,
    "topics": _topics,
    "migrate": _migrate,
    "triage": _triage,
    "services": _services,
    "contract": _contract,
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["triage"], ["services"], ["contract"]):
        # These pass their own options (`--eval`, `--state-dir`) straight to their own parsers.
        argv = [argv[0], "--", *argv[1:]]
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return COMMANDS[args.command](args, Settings.from_env())


if __name__ == "__main__":
    sys.exit(main())
