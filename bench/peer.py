"""A peer Python stream processor measured in the same `make bench` run: quixstreams.

The same appeals as Shaobao's end-to-end figure go through bench/peer_quix.py (intake →
dedupe state → commands → ticket state → work orders) in a process of its own on the same
broker; the figure is appeals/s from the first produce until every work order is on the
orders topic, after a warm-up that is not counted, as for Shaobao.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from bench.peer_topology import COMMIT_INTERVAL_S, PROCESSING_GUARANTEE, topic_names
from infra.kafka.readiness import group_has_members
from infra.kafka.topics import TopicSpec, delete_topics, ensure_topics, list_topic_names
from shaobao.launch import _die_with_parent, stop_process
from streams.kafka_access import KafkaAccess
from streams.settings import REPO_ROOT

JOIN_TIMEOUT_S = 120.0
# The peer's own virtualenv, made by `make bench` (quixstreams and nothing of the project's).
PEER_PYTHON = Path(
    os.environ.get("SHAOBAO_PEER_PYTHON", REPO_ROOT / ".cache" / "peer-venv" / "bin" / "python")
)
Records = list[tuple[bytes, bytes]]
# How the bench produces appeals (`bench.pipeline.produce_all`): the same settings for both figures.
Produce = Callable[[KafkaAccess, str, Records], Awaitable[None]]


def quixstreams_version() -> str:
    """The quixstreams in the peer's virtualenv, or a clear error before the long run starts."""
    found = (
        subprocess.run(
            [str(PEER_PYTHON), "-c", "from importlib.metadata import version; print(version('quixstreams'))"],
            capture_output=True,
            text=True,
            check=False,
        )
        if PEER_PYTHON.exists()
        else None
    )
    if found is None or found.returncode != 0:
        raise SystemExit(f"the peer benchmark needs quixstreams in {PEER_PYTHON}: run `make bench`")
    return found.stdout.strip()


def start_peer(kafka: KafkaAccess, prefix: str, state_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    """`python -m bench.peer_quix` (the peer's own interpreter) as a child of its own session,
    with the access in its environment (never on its command line)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("KAFKA_")}
    properties = dict(
        line.partition("=")[::2] for line in kafka.librdkafka_properties().splitlines() if "=" in line
    )
    with log.open("ab") as out:  # the child keeps its own descriptor
        return subprocess.Popen(
            [str(PEER_PYTHON), "-m", "bench.peer_quix", "--prefix", prefix, "--state-dir", str(state_dir)],
            cwd=REPO_ROOT,
            env={
                **env,
                "PEER_KAFKA_PROPERTIES": json.dumps(properties),
                "PYTHONPATH": str(REPO_ROOT),
                "PYTHONUNBUFFERED": "1",
            },
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,  # setsid, and SIGTERM if the bench dies
        )


async def wait_for_peer(kafka: KafkaAccess, peer: subprocess.Popen[bytes], group: str, log: Path) -> None:
    """Return once the peer's consumer group is Stable with a member."""
    deadline = time.monotonic() + JOIN_TIMEOUT_S
    while not await group_has_members(kafka, group):
        check_alive(peer, log)
        if time.monotonic() > deadline:
            raise TimeoutError(f"the quixstreams peer did not join {group} in {JOIN_TIMEOUT_S}s; see {log}")
        await asyncio.sleep(0.5)


def check_alive(peer: subprocess.Popen[bytes], log: Path) -> None:
    if peer.poll() is not None:
        raise RuntimeError(f"the quixstreams peer exited with {peer.returncode}; see {log}")


async def order_total(consumer: AIOKafkaConsumer, topic: str, partitions: int) -> int:
    """How many work orders the orders topic holds now (sum of end offsets)."""
    ends = await consumer.end_offsets([TopicPartition(topic, p) for p in range(partitions)])
    return int(sum(ends.values()))


async def run_through(
    kafka: KafkaAccess,
    peer: subprocess.Popen[bytes],
    topics: dict[str, str],
    partitions: int,
    records: Records,
    produce: Produce,
    log: Path,
) -> dict[str, float]:
    """Produce `records` and wait until each new intake key has its work order."""
    consumer = AIOKafkaConsumer(**kafka.client_options())
    await consumer.start()
    try:
        target = await order_total(consumer, topics["orders"], partitions) + len({k for k, _ in records})
        started = time.perf_counter()
        await produce(kafka, topics["intake"], records)
        produced, last_print = time.perf_counter() - started, time.perf_counter()
        while (orders := await order_total(consumer, topics["orders"], partitions)) < target:
            check_alive(peer, log)
            if time.perf_counter() - last_print > 5:
                print(f"  quixstreams: {orders}/{target} work orders", flush=True)
                last_print = time.perf_counter()
            await asyncio.sleep(0.2)
        elapsed = time.perf_counter() - started
    finally:
        await consumer.stop()
    return figure(len(records), orders, produced, elapsed)


def figure(appeals: int, orders: int, produced: float, elapsed: float) -> dict[str, float]:
    """An end-to-end figure as `bench/results.json` keeps it (Shaobao's and the peer's alike)."""
    return {
        "appeals": float(appeals),
        "orders": float(orders),
        "produce_seconds": produced,
        "seconds": elapsed,
        "per_second": appeals / elapsed,
    }


async def peer_topics_on_broker(kafka: KafkaAccess, topics: dict[str, str]) -> set[str]:
    """The peer's topics and the changelogs quixstreams created for it (named after its group)."""
    return {
        name
        for name in await list_topic_names(kafka)
        if name in topics.values() or f"__{topics['group']}--" in name
    }


async def peer_quixstreams(
    kafka: KafkaAccess,
    prefix: str,
    partitions: int,
    warm_up: Records,
    records: Records,
    produce: Produce,
    workdir: Path,
) -> dict[str, float | str]:
    """The peer's appeals/s over `records` (after `warm_up`); its topics are deleted afterwards."""
    version = quixstreams_version()
    topics = topic_names(prefix)
    names = (topics["intake"], topics["commands"], topics["orders"])
    await ensure_topics(kafka, [TopicSpec(name, partitions, {}) for name in names])
    log = workdir / "peer-quix.log"
    peer = start_peer(kafka, prefix, workdir / "peer-quix-state", log)
    try:
        await wait_for_peer(kafka, peer, topics["group"], log)
        await run_through(kafka, peer, topics, partitions, warm_up, produce, log)
        figure = await run_through(kafka, peer, topics, partitions, records, produce, log)
    finally:
        stop_process(peer)
        await delete_topics(kafka, await peer_topics_on_broker(kafka, topics))
    return {
        **figure,
        "version": version,
        "processing_guarantee": PROCESSING_GUARANTEE,
        "commit_interval_s": COMMIT_INTERVAL_S,
    }
