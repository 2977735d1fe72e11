"""The ops ASGI app: /health, /ready from the worker's state, /metrics as Prometheus reads it."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from streams import metrics
from streams.readiness import WorkerReadiness
from web.ops import create_ops_app


def client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ops")  # type: ignore[arg-type]


class FakeQueries:
    def __init__(self, counts: dict[str, int] | None, overdue: dict[str, int] | None = None) -> None:
        self.counts = counts
        self.overdue = overdue or {}

    async def open_tickets_by_status(self) -> dict[str, int]:
        if self.counts is None:
            raise ConnectionRefusedError("PostgreSQL is down")
        return self.counts

    async def overdue_tickets_by_unit(self) -> dict[str, int]:
        if self.counts is None:
            raise ConnectionRefusedError("PostgreSQL is down")
        return self.overdue


@pytest.mark.parametrize(
    ("state", "status"),
    [
        (WorkerReadiness(assigned_partitions=18, tables_recovered=True, rebalancing=False), 200),
        (WorkerReadiness(assigned_partitions=0, tables_recovered=True, rebalancing=False), 503),
        (WorkerReadiness(assigned_partitions=18, tables_recovered=False, rebalancing=True), 503),
        (WorkerReadiness(assigned_partitions=18, tables_recovered=True, rebalancing=True), 503),
    ],
)
async def test_ready_needs_partitions_recovered_tables_and_no_rebalance(
    state: WorkerReadiness, status: int
) -> None:
    async with client(create_ops_app(lambda: state)) as http:
        ready = await http.get("/ready")
        health = await http.get("/health")
    assert ready.status_code == status
    assert ready.json() == {
        "ready": status == 200,
        "assigned_partitions": state.assigned_partitions,
        "tables_recovered": state.tables_recovered,
        "rebalancing": state.rebalancing,
    }
    assert (health.status_code, health.json()) == (200, {"status": "ok"})  # alive even when not ready


async def test_metrics_refresh_open_tickets_at_each_scrape() -> None:
    queries = FakeQueries({"dispatched": 12, "manual": 3, "received": 0})
    app = create_ops_app(lambda: WorkerReadiness(1, True, False), queries)
    async with client(app) as http:
        first = await http.get("/metrics")
        queries.counts = {"dispatched": 11, "manual": 4, "received": 0}
        second = await http.get("/metrics")
    assert first.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert open_tickets(first.text) == {"dispatched": 12, "manual": 3, "received": 0}
    assert open_tickets(second.text) == {"dispatched": 11, "manual": 4, "received": 0}


async def test_overdue_tickets_by_unit_are_refreshed_and_a_unit_caught_up_reads_zero() -> None:
    queries = FakeQueries({"dispatched": 3}, overdue={"cgj": 2, "hotline": 1})
    app = create_ops_app(lambda: WorkerReadiness(1, True, False), queries)
    async with client(app) as http:
        first = await http.get("/metrics")
        queries.overdue = {"slj": 1}
        second = await http.get("/metrics")
    assert by_label(first.text, "shaobao_overdue_tickets", "unit") == {"cgj": 2, "hotline": 1}
    assert by_label(second.text, "shaobao_overdue_tickets", "unit") == {"cgj": 0, "hotline": 0, "slj": 1}


async def test_a_scrape_answers_with_the_last_figures_when_postgresql_does_not() -> None:
    queries = FakeQueries({"dispatched": 5})
    before = metrics.REGISTRY.get_sample_value(
        "shaobao_store_errors_total", {"operation": "ops_query", "error": "ConnectionRefusedError"}
    )
    async with client(create_ops_app(lambda: WorkerReadiness(1, True, False), queries)) as http:
        await http.get("/metrics")
        queries.counts = None
        response = await http.get("/metrics")
    assert response.status_code == 200
    assert open_tickets(response.text)["dispatched"] == 5
    after = metrics.REGISTRY.get_sample_value(
        "shaobao_store_errors_total", {"operation": "ops_query", "error": "ConnectionRefusedError"}
    )
    assert after == (before or 0) + 2  # the open and the overdue counts both failed


def open_tickets(text: str) -> dict[str, float]:
    return by_label(text, "shaobao_tickets_open", "status")


def by_label(text: str, name: str, label: str) -> dict[str, float]:
    return {
        sample.labels[label]: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == name
        for sample in family.samples
    }
