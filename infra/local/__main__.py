"""`python -m infra.local up|down|status`: the development services, detached from the terminal."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infra.local.kafka import LocalKafkaError
from infra.local.postgres import LocalPostgresError
from infra.local.services import (
    LocalPorts,
    ServiceUnavailableError,
    default_state_dir,
    services_down,
    services_purge,
    services_status,
    services_up,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status", "purge"])
    parser.add_argument("--state-dir", type=Path, default=None, help=f"default: {default_state_dir()}")
    parser.add_argument("--kafka-port", type=int, default=LocalPorts.kafka)
    parser.add_argument("--kafka-controller-port", type=int, default=LocalPorts.kafka_controller)
    parser.add_argument("--postgres-port", type=int, default=LocalPorts.postgres)
    parser.add_argument(
        "--brokers", type=int, default=None, help="Kafka nodes to start (default: SHAOBAO_KAFKA_BROKERS or 1)"
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            ports = LocalPorts(args.kafka_port, args.kafka_controller_port, args.postgres_port)
            endpoints = services_up(args.state_dir, ports, args.brokers)
            # stdout is the env file's content, so `export $(python -m infra.local up)` works.
            for key, value in endpoints.as_env().items():
                print(f"{key}={value}")
        elif args.command == "down":
            services_down(args.state_dir)
        elif args.command == "purge":
            services_purge(args.state_dir)
        else:
            status = services_status(args.state_dir)
            for service, state in status.items():
                print(f"{service}: {state}")
            return 0 if all(state != "stopped" for state in status.values()) else 3
    except (LocalKafkaError, LocalPostgresError, ServiceUnavailableError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
