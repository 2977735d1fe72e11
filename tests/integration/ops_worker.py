"""A worker wired as the composition root wires it with ops (`shaobao.observability`), with
a one-second lag poll: run by test_ops_metrics as `python -m tests.integration.ops_worker`."""

from __future__ import annotations

import faust

from infra.json_logs import logging_config
from shaobao.bootstrap import SystemClock, build_worker
from shaobao.observability import install_ops
from streams.settings import Settings


def main() -> None:
    settings = Settings.from_env()
    streams, _store, _reference = build_worker(settings)
    install_ops(streams, settings, SystemClock(), poll_interval_s=1.0)
    settings.datadir.mkdir(parents=True, exist_ok=True)
    worker = faust.Worker(
        streams.app, loglevel="info", workdir=str(settings.datadir), logging_config=logging_config("INFO")
    )
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
