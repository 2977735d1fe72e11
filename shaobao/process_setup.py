"""What every `shaobao` process sets up before its command runs: JSON log lines for those that
run until stopped, and `/metrics` from a thread for the simulators, which have no web server
(the worker and the control room serve theirs on their own ports). Light on purpose: no
Faust import, so one-shot commands start fast."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import prometheus_client

from infra.json_logs import setup_json_logging
from streams import metrics

log = logging.getLogger(__name__)
# The `shaobao` commands that run until stopped: their log lines are JSON.
LONG_RUNNING = frozenset({"worker", "web", "simulate", "units", "callbacks"})
# Where each simulator serves /metrics unless SHAOBAO_METRICS_PORT says otherwise (0: nowhere).
SIMULATOR_METRICS_PORTS = {"simulate": 6067, "units": 6068, "callbacks": 6069}


def setup_process(command: str, env: Mapping[str, str]) -> None:
    """JSON logs for a long-running command (human ones for the others), and /metrics for a
    simulator on SHAOBAO_METRICS_BIND (127.0.0.1) : SHAOBAO_METRICS_PORT (its default above)."""
    if command not in LONG_RUNNING:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
        return
    setup_json_logging(env.get("SHAOBAO_LOG_LEVEL", "INFO"))
    if command in SIMULATOR_METRICS_PORTS:
        port = int(env.get("SHAOBAO_METRICS_PORT", SIMULATOR_METRICS_PORTS[command]))
        serve_metrics(env.get("SHAOBAO_METRICS_BIND", "127.0.0.1"), port)


def serve_metrics(bind: str, port: int) -> bool:
    """Serve the registry from a daemon thread; False when `port` is 0 or taken."""
    if port == 0:
        return False
    try:
        prometheus_client.start_http_server(port, addr=bind, registry=metrics.REGISTRY)
    except OSError as exc:
        # The port is taken (two stacks on one machine): the process runs on, unscraped.
        log.warning("cannot serve /metrics on %s:%d: %s", bind, port, exc)
        return False
    log.info("serving /metrics on http://%s:%d/metrics", bind, port)
    return True
