"""`shaobao reference publish FILE [--lexicon FILE]`: put a new jurisdiction in force without a restart.

The files are validated here exactly as the workers will (jurisdiction, lexicon,
the lexicon against the jurisdiction, the units against the deployment's
topics); an invalid one is refused with the reason and nothing is published.
A valid one goes to the compacted `config.reference` topic, keyed by the
jurisdiction code; every worker takes it up within a second and records its
version on each triage decision from then on.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from agents.reference import check_units
from infra.kafka.topics import TopicSpec, ensure_topics
from infra.reference import ReferenceInvalid, build_reference, load_jurisdiction, read_reference
from schemas.reference import ReferencePublished
from streams.names import TopicNames
from streams.settings import Settings


async def publish(settings: Settings, published: ReferencePublished) -> None:
    """Send one reference record (acks=all), creating the compacted topic if it is missing."""
    topic = TopicNames(settings.topic_prefix).reference
    await ensure_topics(settings.kafka, [TopicSpec(topic, 1, {"cleanup.policy": "compact"})])
    producer = AIOKafkaProducer(**settings.kafka.producer_options())
    await producer.start()
    try:
        key = published.jurisdiction_code.encode()
        await producer.send_and_wait(topic, key=key, value=published.model_dump_json().encode())
    finally:
        await producer.stop()


def run(argv: Sequence[str], settings: Settings, out: TextIO | None = None) -> int:
    """Entry point for `shaobao reference ...`; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="shaobao reference", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action", required=True)
    cmd = sub.add_parser(
        "publish", help="validate a jurisdiction (and lexicon) and publish it to the workers"
    )
    cmd.add_argument("file", type=Path, help="the jurisdiction YAML file")
    cmd.add_argument("--lexicon", type=Path, default=None, help="default: <file>.lexicon.yaml beside it")
    args = parser.parse_args(list(argv))
    stream = out or sys.stdout
    try:
        published = read_reference(args.file, args.lexicon, datetime.now(UTC))
        built = build_reference(published)
        # Units are the deployment's topics: the running workers refuse a reference that adds some.
        check_units(built, load_jurisdiction(settings.jurisdiction_file).unit_codes)
    except (OSError, ValueError) as error:  # ReferenceInvalid is a ValueError
        kind = "invalid reference" if isinstance(error, ReferenceInvalid) else "cannot publish"
        print(f"shaobao reference: {kind}, nothing published: {error}", file=sys.stderr)
        return 2
    try:
        asyncio.run(publish(settings, published))
    except (KafkaError, TimeoutError) as error:
        # The broker is down or overloaded: nothing was acknowledged, so say so and let them retry.
        print(f"shaobao reference: not published, Kafka did not take it: {error!r}", file=sys.stderr)
        return 1
    stream.write(
        f"published {published.jurisdiction_code} version {published.version} "
        f"to {TopicNames(settings.topic_prefix).reference}\n"
    )
    return 0
