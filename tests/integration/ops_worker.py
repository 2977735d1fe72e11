"""The production worker (`shaobao.bootstrap.build_worker`, ops included) for test_ops_metrics:
`python -m tests.integration.ops_worker`. Differences from `shaobao worker`, for speed: a 1 s
lag poll, and a lag alert from the first message behind (the test makes lag on purpose)."""

from __future__ import annotations

import faust

from domain.ops import LagThresholds
from infra.json_logs import logging_config, setup_json_logging
from shaobao.bootstrap import build_worker
from streams.settings import Settings

TEST_THRESHOLDS = LagThresholds(warn_messages=1, critical_messages=1_000_000, warn_seconds=3600)


def main() -> None:
    setup_json_logging("INFO")  # as `shaobao worker` does: start-up lines are JSON too
    settings = Settings.from_env()
    streams, _store, _reference = build_worker(
        settings, lag_poll_interval_s=1.0, lag_thresholds=TEST_THRESHOLDS
    )
    settings.datadir.mkdir(parents=True, exist_ok=True)
    worker = faust.Worker(
        streams.app, loglevel="info", workdir=str(settings.datadir), logging_config=logging_config("INFO")
    )
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
