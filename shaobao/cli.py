"""`shaobao`: the one command-line entry point."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable

from streams.settings import Settings


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    import faust

    from infra.kafka.topics import ensure_topics
    from infra.postgres.migrate import migrate_url
    from shaobao.bootstrap import all_topic_specs, build_worker

    streams, store, reference = build_worker(settings)
    asyncio.run(migrate_url(settings.database_url))
    created = asyncio.run(ensure_topics(settings.kafka, all_topic_specs(settings, reference.jurisdiction)))
    if created:
        print(f"created {len(created)} topics", flush=True)
    settings.datadir.mkdir(parents=True, exist_ok=True)
    from infra.json_logs import logging_config

    worker = faust.Worker(
        streams.app,
        loglevel=args.loglevel,
        workdir=str(settings.datadir),
        logging_config=logging_config(args.loglevel),  # Faust's own lines as JSON too
    )
    worker.execute_from_commandline()
    return 0


def _web(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from shaobao.web_wiring import web_app

    uvicorn.run(
        web_app(settings),
        host=args.host,
        port=args.port or settings.web_port,
        log_level="warning",
        log_config=None,  # uvicorn's lines go to the root logger: JSON like the rest
        timeout_graceful_shutdown=2,  # open control-room streams (SSE) never end by themselves
    )
    return 0


def _simulate(args: argparse.Namespace, settings: Settings) -> int:
    from shaobao.simulation.appeals import simulate

    return asyncio.run(simulate(settings, rate=args.rate, count=args.count, burst_every_s=args.burst_every))


def _units(args: argparse.Namespace, settings: Settings) -> int:
    from shaobao.simulation.units import simulate_units

    return asyncio.run(simulate_units(settings, speed=args.speed, seed=args.seed))


def _callbacks(args: argparse.Namespace, settings: Settings) -> int:
    from shaobao.simulation.hotline import simulate_callbacks

    return asyncio.run(simulate_callbacks(settings, speed=args.speed, seed=args.seed))


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from shaobao.supervisor import run_stack

    return run_stack(settings, rate=args.rate, simulate=not args.no_simulator)


def _topics(args: argparse.Namespace, settings: Settings) -> int:
    from infra.kafka.topics import ensure_topics
    from infra.reference import load_jurisdiction
    from shaobao.bootstrap import all_topic_specs

    specs = all_topic_specs(settings, load_jurisdiction(settings.jurisdiction_file))
    created = asyncio.run(ensure_topics(settings.kafka, specs))
    print(f"{len(specs)} topics, {len(created)} created")
    return 0


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from infra.postgres.migrate import migrate_url
    from infra.postgres.store_records import store_jurisdiction_at
    from infra.reference import load_jurisdiction

    applied = asyncio.run(migrate_url(settings.database_url))
    print(f"applied {len(applied)} migrations: {', '.join(applied) or 'none needed'}")
    asyncio.run(store_jurisdiction_at(settings.database_url, load_jurisdiction(settings.jurisdiction_file)))
    return 0


def _passed_through(rest: list[str]) -> list[str]:
    return rest[1:] if rest[:1] == ["--"] else rest


def _triage(args: argparse.Namespace, settings: Settings) -> int:
    from shaobao import triage_cli

    return triage_cli.run(_passed_through(args.rest))


def _contract(args: argparse.Namespace, settings: Settings) -> int:
    from shaobao import contract_cli

    return contract_cli.run(_passed_through(args.rest))


def _reference(args: argparse.Namespace, settings: Settings) -> int:
    from shaobao import reference_cli

    return reference_cli.run(_passed_through(args.rest), settings)


def _tokens(args: argparse.Namespace, settings: Settings) -> int:
    from shaobao import tokens_cli

    return tokens_cli.run(_passed_through(args.rest), settings)


def _kb(args: argparse.Namespace, settings: Settings) -> int:
    from shaobao import kb_cli

    return kb_cli.run(_passed_through(args.rest), settings)


def _privacy(args: argparse.Namespace, settings: Settings) -> int:
    from shaobao import privacy_cli

    return privacy_cli.run(_passed_through(args.rest), settings)


def _top(args: argparse.Namespace, settings: Settings) -> int:
    from shaobao import top

    return top.run(_passed_through(args.rest))


def _services(args: argparse.Namespace, settings: Settings) -> int:
    from infra.local.__main__ import main as services_main

    return int(services_main(_passed_through(args.rest)) or 0)


def _import(args: argparse.Namespace, settings: Settings) -> int:
    from shaobao.importers import run_import

    return run_import(_passed_through(args.rest))


def _rejected(args: argparse.Namespace, settings: Settings) -> int:
    from shaobao.rejections_cli import run_rejected

    return run_rejected(_passed_through(args.rest))


def _dead(args: argparse.Namespace, settings: Settings) -> int:
    from shaobao.dead_cli import run_dead

    return run_dead(_passed_through(args.rest), settings)


def _report(args: argparse.Namespace, settings: Settings) -> int:
    from shaobao import report_cli

    return report_cli.run_report(_passed_through(args.rest), settings)


def _verify(args: argparse.Namespace, settings: Settings) -> int:
    from shaobao import report_cli

    return report_cli.run_verify(_passed_through(args.rest), settings)


def _replay(args: argparse.Namespace, settings: Settings) -> int:
    from shaobao import replay_cli

    return replay_cli.run_replay(_passed_through(args.rest), settings)


def _meeting_list(args: argparse.Namespace, settings: Settings) -> int:
    from shaobao import meeting_list_cli

    return meeting_list_cli.run(_passed_through(args.rest), settings)


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
    _add_feeding_commands(sub)
    sub.add_parser("topics", help="create the project's topics")
    sub.add_parser("migrate", help="apply database migrations")
    _add_simulator_commands(sub)
    for name, help_text in _PASSED_THROUGH_HELP:
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def _add_feeding_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`simulate` and `run`: appeals fed in at a rate, alone or with the whole stack."""
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


def _add_simulator_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`units simulate` and `callbacks simulate`: the people who work and call back, simulated."""
    for name, help_text in (
        (
            "units",
            "simulate: departments and towns working their orders (sign, return, extend, complete);"
            " credentials issue|rotate|revoke UNIT: a unit's Kafka principal",
        ),
        ("callbacks", "simulate: the hotline calling citizens back, rework, decisions on returns"),
    ):
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("action", choices=["simulate"])
        cmd.add_argument("--speed", type=float, default=1.0, help="how much faster than the demo pace")
        cmd.add_argument("--seed", type=int, default=0, help="the behaviour's random seed")


# The commands that parse their own arguments (all they are given is handed on), with their help.
_PASSED_THROUGH_HELP = (
    ("triage", "triage appeals from a JSONL file"),
    ("reference", "publish a jurisdiction (and lexicon) to the running workers: reference publish FILE"),
    ("services", "local Kafka/PostgreSQL: up, down, status"),
    ("contract", "publish the wire contract: write or check schemas/json and schemas/asyncapi.yaml"),
    ("import", "import the mayor's mailbox (.eml) or a legacy ticket CSV onto appeals.intake"),
    ("rejected", "list what intake rejected, or replay it after a fix"),
    ("dead", "list what the agents could not process (dead letters), or replay it after a fix"),
    ("tokens", "HTTP API tokens: issue (--unit CODE | --role ROLE --name NAME), list, revoke PREFIX"),
    (
        "kb",
        "the knowledge base (知识库): kb import FILE [--by NAME] (YAML or CSV; exit 1 if any refused)",
    ),
    ("top", "ops in the terminal: consumer lag, rates, open tickets and queues, live (--once)"),
    ("report", "the periodic report: report daily|weekly|tenday|monthly [--date] [--format] [--out]"),
    ("verify", "compare the store with tickets.events; exit 1 on any difference"),
    ("replay", "rebuild PostgreSQL from tickets.events (idempotent: writes only what it lacks)"),
    ("leadership", "the dispatch meeting list (逢6调度): leadership list [--date] [--format]"),
    ("kafka", "provision: the deployment's Kafka principals, ACLs and client files (as admin)"),
    (
        "privacy",
        "erase --phone N: one person out of the store; retention: delete what is past its window",
    ),
)


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "worker": _worker,
    "web": _web,
    "simulate": _simulate,
    "run": _run,
    "topics": _topics,
    "migrate": _migrate,
    "units": _units,
    "callbacks": _callbacks,
    "triage": _triage,
    "reference": _reference,
    "services": _services,
    "contract": _contract,
    "import": _import,
    "rejected": _rejected,
    "dead": _dead,
    "tokens": _tokens,
    "privacy": _privacy,
    "kb": _kb,
    "top": _top,
    "leadership": _meeting_list,
    "report": _report,
    "verify": _verify,
    "replay": _replay,
}


PASSED_THROUGH = {
    *("triage", "services", "contract", "reference", "tokens", "import", "rejected", "top"),
    *("report", "verify", "replay", "dead", "privacy", "kb"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] and argv[0] in PASSED_THROUGH:
        # These pass their own options (`--eval`, `--state-dir`) straight to their own parsers.
        argv = [argv[0], "--", *argv[1:]]
    if argv[:2] == ["units", "credentials"]:
        from shaobao.credentials_cli import main as credentials

        return credentials(argv[2:], Settings.from_env())
    if argv[:1] == ["kafka"]:
        from shaobao.credentials_cli import provision_main

        return provision_main(argv[1:], Settings.from_env())
    args = build_parser().parse_args(argv)
    from shaobao.process_setup import setup_process

    setup_process(args.command, os.environ)  # JSON logs; /metrics for the simulators
    return COMMANDS[args.command](args, Settings.from_env())


if __name__ == "__main__":
    sys.exit(main())
