"""Ops wiring for the worker, called by the composition root after the agents are installed:
the metering sensor, the lag poller, and the ops endpoint served inside the worker's loop."""

from __future__ import annotations

from faust.contrib.asgi import serve_asgi
from mode import Service

from agents import ops_monitor, ops_sensor
from agents.ops_monitor import OpsMonitor
from agents.ports import StoreErrorCount, TimeSource
from domain.ops import LagThresholds
from infra.kafka.lag import KafkaLagProbe
from streams.app import Streams
from streams.readiness import worker_readiness
from streams.settings import Settings
from web.ops import create_ops_app


def install_ops(
    streams: Streams,
    settings: Settings,
    clock: TimeSource,
    store: StoreErrorCount | None = None,
    poll_interval_s: float = ops_monitor.POLL_INTERVAL_S,
    lag_thresholds: LagThresholds | None = None,
) -> None:
    """Meter every agent, poll lag into gauges and alerts, serve /metrics, /health, /ready on
    the worker web port. `store` is the sink's `MeteredTicketEventStore`, for store alerts."""
    ops_sensor.install(streams.app, streams.names)
    probe = KafkaLagProbe(settings.kafka)
    monitor = OpsMonitor(streams, probe, clock, store, lag_thresholds=lag_thresholds)
    ops_monitor.install(streams, monitor, poll_interval_s)

    class CloseLagProbe(Service):
        async def on_stop(self) -> None:
            await probe.close()  # its admin client and consumer are not Faust's to close

    streams.app.service(CloseLagProbe)
    # uvicorn in the worker's own loop, replacing Faust's aiohttp server on the same port.
    serve_asgi(
        streams.app,
        create_ops_app(lambda: worker_readiness(streams.app)),
        host=settings.worker_web_bind,
        port=settings.worker_web_port,
        log_level="warning",
        access_log=False,
    )
