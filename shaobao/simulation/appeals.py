"""A simulator that feeds realistic appeals, drawn from the labelled corpus, into `appeals.intake`."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer

from streams import metrics
from streams.names import TopicNames
from streams.settings import REPO_ROOT, Settings

CORPUS = REPO_ROOT / "data" / "corpus" / "appeals_labeled.jsonl"
BURST_SIZE = 25


def corpus_appeals(path: Path = CORPUS) -> list[dict[str, object]]:
    """The corpus lines as intake payloads (without `expect`, `id` becomes the source id)."""
    appeals = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            record.pop("expect", None)
            record["source_id"] = record.pop("id")
            appeals.append(record)
    return appeals


def fresh_appeals(seed: int | None = None) -> Iterator[dict[str, object]]:
    """Corpus appeals in random order, each with a new source id and received now.

    Each template comes once per shuffled round, not drawn with replacement: the same
    problem reported again minutes later is what the cluster detector merges, and a city
    does not hear every problem twice within the hour."""
    rng = random.Random(seed)  # noqa: S311 - simulation, not security
    base = corpus_appeals()
    run = uuid.uuid4().hex[:8]
    n = 0
    while True:
        round_ = list(base)
        rng.shuffle(round_)
        for template in round_:
            n += 1
            yield {**template, "source_id": f"sim-{run}-{n}", "received_at": datetime.now(UTC).isoformat()}


async def simulate(settings: Settings, rate: float, count: int = 0, burst_every_s: float = 20.0) -> int:
    """Produce appeals at about `rate` per second, with a burst every `burst_every_s` seconds."""
    names = TopicNames(settings.topic_prefix)
    producer = AIOKafkaProducer(**settings.kafka.producer_options(linger_ms=5))
    await producer.start()
    rng = random.Random()  # noqa: S311 - simulation, not security
    appeals_sent = metrics.SIMULATOR_RECORDS_SENT.labels("appeals", names.intake)
    sent, burst_left = 0, 0
    started = last_burst = last_report = time.monotonic()
    try:
        for appeal in fresh_appeals():
            key = f"{appeal['channel']}:{appeal['source_id']}".encode()
            await producer.send(names.intake, key=key, value=json.dumps(appeal, ensure_ascii=False).encode())
            sent += 1
            appeals_sent.inc()
            if count and sent >= count:
                break
            now = time.monotonic()
            if now - last_report >= 10:
                print(f"simulator: {sent} appeals sent ({sent / (now - started):.1f}/s)", flush=True)
                last_report = now
            if burst_every_s and now - last_burst >= burst_every_s:
                last_burst, burst_left = now, BURST_SIZE  # many people call about the same storm at once
            if burst_left:
                burst_left -= 1
                continue
            await asyncio.sleep(rng.expovariate(rate) if rate > 0 else 0)
    finally:
        await producer.stop()
    print(f"simulator: {sent} appeals sent", flush=True)
    return 0
