"""`shaobao top`: lag, rates and queues live in the terminal, for ops without a browser.

    shaobao top               redraw every second until Ctrl-C
    shaobao top --once        print one frame (two samples, one interval apart) and exit

Reads Kafka (the worker group's committed offsets and the log ends) and PostgreSQL (open
tickets) directly, so it works when the worker's HTTP port is out of reach. Plain ANSI: one
escape sequence to clear the screen between frames, nothing when the output is not a tty.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TextIO

from agents.ports import LagUnavailable
from domain.ops import PartitionOffsets, offset_sample, partition_lag, per_second, topic_lags
from infra.kafka.lag import KafkaLagProbe
from infra.postgres.ops_queries import AsyncpgOpsQueries, UnitQueue
from infra.reference import load_jurisdiction
from streams.names import TopicNames
from streams.settings import Settings
from web.ports import OpsDataUnavailable

CLEAR = "\x1b[H\x1b[2J"
BOLD, RESET = "\x1b[1m", "\x1b[0m"
TOP_UNITS = 15


@dataclass(frozen=True)
class Snapshot:
    """Everything one frame shows; a source that failed leaves its part None with the reason."""

    at: datetime
    group: str
    offsets: list[PartitionOffsets] | None = None
    rejected_total: int | None = None
    kafka_error: str | None = None
    open_by_status: dict[str, int] | None = None
    queues: list[UnitQueue] = field(default_factory=list)
    command_rejections: dict[str, int] = field(default_factory=dict)
    db_error: str | None = None


class Sources:
    def __init__(self, settings: Settings) -> None:
        self.names = TopicNames(settings.topic_prefix)
        self.probe = KafkaLagProbe(settings.kafka)
        self.queries = AsyncpgOpsQueries(settings.database_url)

    async def snapshot(self) -> Snapshot:
        snapshot = Snapshot(at=datetime.now(UTC), group=self.names.app_id)
        return await self._database(await self._kafka(snapshot))

    async def _kafka(self, snapshot: Snapshot) -> Snapshot:
        names = self.names
        try:
            offsets = await self.probe.offsets(names.app_id, [names.intake, names.commands, names.events])
            written = await self.probe.records_written([names.rejected])
        except LagUnavailable as exc:
            return replace(snapshot, kafka_error=str(exc))
        return replace(snapshot, offsets=offsets, rejected_total=written[names.rejected])

    async def _database(self, snapshot: Snapshot) -> Snapshot:
        try:
            return replace(
                snapshot,
                open_by_status=await self.queries.open_tickets_by_status(),
                queues=await self.queries.open_tickets_by_unit(),
                command_rejections=await self.queries.command_rejections(),
            )
        except OpsDataUnavailable as exc:
            # PostgreSQL down: the Kafka half of the frame still shows.
            return replace(snapshot, db_error=str(exc))

    async def close(self) -> None:
        await self.probe.close()
        await self.queries.close()


def render(now: Snapshot, before: Snapshot | None, unit_name: Callable[[str], str], bold: bool) -> str:
    """One frame of text. Rates are between `before` and `now` (none on the first frame)."""
    b, r = (BOLD, RESET) if bold else ("", "")
    lines = [f"{b}哨报 shaobao top{r}  {now.at:%Y-%m-%d %H:%M:%S} UTC", ""]
    lines += _lag_lines(now, before, b, r)
    lines += [""] + _ticket_lines(now, unit_name, b, r)
    return "\n".join(lines) + "\n"


def _lag_lines(now: Snapshot, before: Snapshot | None, b: str, r: str) -> list[str]:
    lines = [f"{b}CONSUMER LAG{r}  (消费积压)  group {now.group}"]
    if now.offsets is None:
        return [*lines, f"  Kafka unavailable: {now.kafka_error}"]
    lags = topic_lags(partition_lag(o, now.at) for o in now.offsets)
    width = max([len(lag.topic) for lag in lags] + [20]) + 2
    lines.append(f"  {_pad('topic', width)}{'lag msgs':>10}{'lag s':>9}{'in/s':>9}{'out/s':>9}")
    for lag in lags:
        produced, consumed = _rates(lag.topic, now, before)
        seconds = "?" if lag.seconds is None else f"{lag.seconds:.1f}"
        lines.append(f"  {_pad(lag.topic, width)}{lag.messages:>10}{seconds:>9}{produced:>9}{consumed:>9}")
    if not lags:
        lines.append(f"  {now.group}: no committed offsets and no topics yet")
    rejected = "?" if now.rejected_total is None else str(now.rejected_total)
    rate = ""
    if before is not None and before.rejected_total is not None and now.rejected_total is not None:
        elapsed = (now.at - before.at).total_seconds() or 1.0
        rate = f" (+{(now.rejected_total - before.rejected_total) / elapsed:.1f}/s)"
    return [*lines, f"  rejected appeals (appeals.rejected): {rejected}{rate}"]


def _rates(topic: str, now: Snapshot, before: Snapshot | None) -> tuple[str, str]:
    if before is None or before.offsets is None or now.offsets is None:
        return "-", "-"
    produced, consumed = per_second(
        offset_sample((o for o in before.offsets if o.topic == topic), before.at),
        offset_sample((o for o in now.offsets if o.topic == topic), now.at),
    )
    return f"{produced:.1f}", f"{consumed:.1f}"


def _ticket_lines(now: Snapshot, unit_name: Callable[[str], str], b: str, r: str) -> list[str]:
    lines = [f"{b}OPEN TICKETS{r}  (在办工单)"]
    if now.open_by_status is None:
        return [*lines, f"  PostgreSQL unavailable: {now.db_error}"]
    counts = "  ".join(f"{status} {n}" for status, n in sorted(now.open_by_status.items()))
    lines.append(f"  {counts}  total {sum(now.open_by_status.values())}")
    lines += ["", f"{b}QUEUES BY UNIT{r}  (承办单位队列, top {TOP_UNITS})"]
    lines += _queue_lines(now.queues, unit_name)
    lines += ["", f"{b}COMMANDS REJECTED, LAST HOUR{r}  (被拒指令)"]
    rejected = ", ".join(f"{kind} {n}" for kind, n in now.command_rejections.items())
    return [*lines, f"  {rejected or 'none'}"]


def _queue_lines(queues: Sequence[UnitQueue], unit_name: Callable[[str], str]) -> list[str]:
    by_unit: dict[str, dict[str, int]] = {}
    for queue in queues:
        by_unit.setdefault(queue.unit, {})[queue.status] = queue.count
    statuses = sorted({queue.status for queue in queues})
    lines = [f"  {_pad('unit', 28)}" + "".join(f"{s:>12}" for s in statuses) + f"{'total':>8}"]
    ranked = sorted(by_unit.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    for unit, counts in ranked[:TOP_UNITS]:
        label = f"{unit} {unit_name(unit)}" if unit else "(manual) 人工派单"
        cells = "".join(f"{counts.get(s, 0):>12}" for s in statuses)
        lines.append(f"  {_pad(label, 28)}{cells}{sum(counts.values()):>8}")
    return lines if by_unit else [*lines, "  no open tickets"]


def _pad(text: str, width: int) -> str:
    """Left-align to `width` terminal columns: CJK characters take two."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - used, 1)


async def _loop(
    sources: Sources, out: TextIO, once: bool, interval_s: float, names: Mapping[str, str]
) -> None:
    bold = out.isatty()
    before = await sources.snapshot()
    while True:
        await asyncio.sleep(interval_s)
        now = await sources.snapshot()
        frame = render(now, before, lambda code: names.get(code, code), bold)
        out.write(frame if once or not out.isatty() else CLEAR + frame)
        out.flush()
        if once:
            return
        before = now


def run(argv: Sequence[str], out: TextIO | None = None, env: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="shaobao top", description=__doc__.split("\n")[0] if __doc__ else ""
    )
    parser.add_argument("--once", action="store_true", help="print one frame and exit")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between frames")
    args = parser.parse_args(list(argv))
    settings = Settings.from_env(dict(env) if env is not None else None)
    jurisdiction = load_jurisdiction(settings.jurisdiction_file)
    names = {code: jurisdiction.unit_name(code) for code in jurisdiction.unit_codes}

    async def main() -> None:
        sources = Sources(settings)
        try:
            await _loop(sources, out or sys.stdout, args.once, args.interval, names)
        finally:
            await sources.close()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a live view ends
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
