"""`shaobao top`'s frame, from a fixed snapshot: lag per topic with rates, queues, rejections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.ops import PartitionOffsets
from infra.postgres.ops_queries import UnitQueue
from shaobao.top import Snapshot, render

AT = datetime(2026, 3, 2, 1, 15, 0, tzinfo=UTC)
NAMES = {"zjj": "市住房和城乡建设局", "slj": "市水利局"}


def offsets(
    topic: str, partition: int, committed: int, end: int, age_s: float | None = None
) -> PartitionOffsets:
    oldest = None if age_s is None else AT - timedelta(seconds=age_s)
    return PartitionOffsets("shaobao", topic, partition, committed, 0, end, oldest)


def snapshot(at: datetime, events_end: int, events_committed: int, rejected: int) -> Snapshot:
    return Snapshot(
        at=at,
        group="shaobao",
        offsets=[
            offsets("appeals.intake", 0, 40, 40),
            offsets("tickets.events", 0, events_committed, events_end, age_s=12.0),
            offsets("tickets.events", 1, 10, 10),
        ],
        rejected_total=rejected,
        open_by_status={"dispatched": 5, "manual": 2, "received": 0},
        queues=[
            UnitQueue("zjj", "dispatched", 3),
            UnitQueue("slj", "dispatched", 2),
            UnitQueue("", "manual", 2),
        ],
        command_rejections={"sign": 2},
    )


def test_a_frame_shows_lag_rates_open_tickets_and_queues() -> None:
    before = snapshot(AT, events_end=100, events_committed=90, rejected=3)
    now = snapshot(AT + timedelta(seconds=2), events_end=110, events_committed=96, rejected=5)
    lines = render(now, before, lambda code: NAMES.get(code, code), bold=False).splitlines()
    assert lines[0] == "哨报 shaobao top  2026-03-02 01:15:02 UTC"
    assert "group shaobao" in lines[2]
    rows = {line.split()[0]: line.split()[1:] for line in lines[4:6]}
    # 14 behind on tickets.events, oldest 14 s old; 10 written and 6 consumed in 2 s.
    assert rows == {
        "appeals.intake": ["0", "0.0", "0.0", "0.0"],
        "tickets.events": ["14", "14.0", "5.0", "3.0"],
    }
    assert lines[6] == "  rejected appeals (appeals.rejected): 5 (+1.0/s)"
    assert "  dispatched 5  manual 2  received 0  total 7" in lines
    queue_rows = [line.split() for line in lines if line.startswith(("  zjj", "  slj", "  (manual)"))]
    assert queue_rows == [
        ["zjj", "市住房和城乡建设局", "3", "0", "3"],
        ["(manual)", "人工派单", "0", "2", "2"],
        ["slj", "市水利局", "2", "0", "2"],
    ]
    assert lines[-1] == "  sign 2"


def test_the_first_frame_has_no_rates_and_a_failed_source_says_why() -> None:
    now = Snapshot(
        at=AT,
        group="shaobao",
        kafka_error="KafkaConnectionError: 127.0.0.1:9092",
        db_error="OSError: refused",
    )
    frame = render(now, None, lambda code: code, bold=True)
    assert "  Kafka unavailable: KafkaConnectionError: 127.0.0.1:9092" in frame.splitlines()
    assert "  PostgreSQL unavailable: OSError: refused" in frame.splitlines()
    assert "\x1b[1mCONSUMER LAG\x1b[0m" in frame
    first = render(snapshot(AT, 100, 90, 3), None, lambda code: code, bold=False)
    [row] = [line.split() for line in first.splitlines() if line.startswith("  tickets.events")]
    assert row == ["tickets.events", "10", "12.0", "-", "-"]
