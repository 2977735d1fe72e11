"""Reading a Prometheus exposition in ops tests, and checking it as Prometheus would."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

from infra.kafka.topics import delete_topics, list_topic_names
from streams.kafka_access import KafkaAccess
from tests.integration.kafkatools import eventually

PROMTOOL = shutil.which("promtool")


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def value(text: str, name: str, **labels: str) -> float | None:
    return samples(text, name).get(tuple(sorted(labels.items())))


def by_label(text: str, name: str, label: str) -> dict[str, float]:
    return {dict(labels)[label]: v for labels, v in samples(text, name).items()}


def promtool_check_metrics(text: str) -> None:
    assert PROMTOOL, "promtool is required (Debian's prometheus package; make test installs it)"
    result = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


async def scrape_url(url: str) -> str | None:
    """The exposition at `url`, or None while nothing answers there yet."""
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            response = await http.get(url)
    except httpx.TransportError:
        return None
    return response.text if response.status_code == 200 else None


async def scrape_url_until(url: str, condition: Callable[[str], bool], timeout_s: float = 60.0) -> str:
    """Scrape until `condition(text)` holds."""

    async def probe() -> str | None:
        text = await scrape_url(url)
        return text if text is not None and condition(text) else None

    return await eventually(probe, timeout_s)


async def delete_topics_of(kafka: KafkaAccess, prefix: str) -> None:
    """Delete a test's topics (its contract topics and Faust's changelogs)."""
    names = await list_topic_names(kafka)
    await delete_topics(kafka, {name for name in names if name.startswith(prefix)})
