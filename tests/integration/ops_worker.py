"""A worker wired as the composition root wires it with ops, for test_ops_metrics:
`python -m tests.integration.ops_worker`. Differences from production, for speed: a 1 s lag
poll, and a lag alert from the first message behind (the test makes lag on purpose)."""

from __future__ import annotations

import faust

import agents.sink
from domain.ops_alerts import LagThresholds
from infra.json_logs import logging_config
from infra.metered_store import MeteredTicketEventStore
from shaobao.bootstrap import SystemClock, build_worker
from shaobao.observability import install_ops
from streams.settings import Settings

TEST_THRESHOLDS = LagThresholds(warn_messages=1, critical_messages=1_000_000, warn_seconds=3600)


def main() -> None:
    settings = Settings.from_env()
    metered: list[MeteredTicketEventStore] = []
    install_sink = agents.sink.install

    def install_metered_sink(streams: object, store: object) -> object:
        # What the lead's one-line bootstrap change does: the sink writes through the meter.
        metered.append(MeteredTicketEventStore(store))  # type: ignore[arg-type]
        return install_sink(streams, metered[0])  # type: ignore[arg-type]

    agents.sink.install = install_metered_sink  # type: ignore[assignment]
    streams, _store, _reference = build_worker(settings)
    install_ops(
        streams, settings, SystemClock(), metered[0], poll_interval_s=1.0, lag_thresholds=TEST_THRESHOLDS
    )
    settings.datadir.mkdir(parents=True, exist_ok=True)
    worker = faust.Worker(
        streams.app, loglevel="info", workdir=str(settings.datadir), logging_config=logging_config("INFO")
    )
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
