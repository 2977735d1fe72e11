"""Legacy ticket CSV: the header, each row → an appeal or a row error with its reason, the
deterministic source id; and the reading of the file (encodings, quoted lines, blanks)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.intake.legacy_csv import (
    TIME_FORMATS,
    Header,
    RowError,
    appeal_from_row,
    parse_received_at,
    read_header,
    row_key,
    source_id_for,
)
from schemas.appeal import Appeal
from shaobao.importers.csv_file import decode_csv, file_encoding, iter_rows, read_csv, scan_csv

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
ZONE = "Asia/Shanghai"
HEADER = read_header(["工单编号", "来电时间", "诉求内容", "来电号码", "来电人", "地址", "渠道", "承办单位"])
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "legacy_tickets.csv"


def row(**cells: str) -> list[str]:
    base = {
        "no": "LG-1",
        "at": "2025-12-01 09:15:00",
        "text": "路灯坏了，请修理。",
        "phone": "13807311234",
        "name": "曹女士",
        "address": "玉潭街道",
        "channel": "电话",
        "unit": "城管局",
    }
    base |= cells
    return list(base.values())


def appeal(cells: list[str], header: Header = HEADER) -> Appeal:
    outcome = appeal_from_row(cells, header, 2, ZONE, NOW)
    assert isinstance(outcome, Appeal), outcome
    return outcome


def test_a_row_becomes_an_appeal_with_a_legacy_source_id_in_utc() -> None:
    found = appeal(row())
    assert (found.channel, found.source_id) == ("phone", "legacy:LG-1")
    assert found.received_at == datetime(2025, 12, 1, 1, 15, tzinfo=UTC)
    assert found.received_at.utcoffset() is not None and found.received_at.tzinfo == UTC
    assert (found.text, found.address) == ("路灯坏了，请修理。", "玉潭街道")
    assert (found.caller.name, found.caller.phone) == ("曹女士", "13807311234")


def test_english_column_names_in_any_order_work_and_unknown_columns_are_ignored() -> None:
    header = read_header(["text", "Ticket_No", "remark", "received_at"])
    assert header.columns == {"text": 0, "source_id": 1, "received_at": 3}
    assert header.ignored == ("remark",)
    found = appeal(["噪音扰民", "A-9", "x", "2025/12/1 9:15"], header)
    assert (found.source_id, found.channel, found.caller.phone) == ("legacy:A-9", "phone", None)


@pytest.mark.parametrize(
    ("names", "problem"),
    [
        (["工单编号", "诉求内容"], "missing required columns: 来电时间"),
        (["编号", "内容"], "missing required columns: 工单编号, 来电时间, 诉求内容"),
        (["工单编号", "来电时间", "诉求内容", "text"], "column 诉求内容 appears twice"),
    ],
)
def test_a_header_without_the_required_columns_is_refused_whole(names: list[str], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        read_header(names)


@pytest.mark.parametrize(
    ("written", "local"),
    [
        ("2025-12-01 09:15:00", "2025-12-01T09:15:00"),
        ("2025-12-01 09:15", "2025-12-01T09:15:00"),
        ("2025/12/1 9:15", "2025-12-01T09:15:00"),
        ("2025/12/01 09:15:30", "2025-12-01T09:15:30"),
        ("2025年12月1日 9:15", "2025-12-01T09:15:00"),
        ("2025年12月1日9:15", "2025-12-01T09:15:00"),
        ("２０２５-１２-０１ ０９:１５", "2025-12-01T09:15:00"),
        ("2025-12-01T09:15:00", "2025-12-01T09:15:00"),
    ],
)
def test_legacy_times_are_local_time_of_the_jurisdiction(written: str, local: str) -> None:
    parsed = parse_received_at(written, ZONE)
    assert parsed is not None and parsed.replace(tzinfo=None).isoformat() == local
    assert parsed.utcoffset() is not None and parsed.utcoffset().total_seconds() == 8 * 3600  # type: ignore[union-attr]


def strptime_only(text: str) -> datetime | None:
    """How legacy times were read before the common layouts' fast path."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for layout in TIME_FORMATS:
        try:
            return datetime.strptime(text, layout)  # noqa: DTZ007
        except ValueError:
            continue
    return None


def padded(low: int, high: int) -> st.SearchStrategy[str]:
    """A number as written by hand: with or without a leading zero, now and then out of range."""
    return st.builds(lambda n, pad: f"{n:02d}" if pad else str(n), st.integers(low, high), st.booleans())


FAMILIES = [("-", "-", " "), ("/", "/", " "), ("年", "月", "日"), ("年", "月", "日 "), ("-", "-", "T")]
SEPARATORS = st.sampled_from(FAMILIES) | st.tuples(
    st.sampled_from(["-", "/", "年"]),
    st.sampled_from(["-", "/", "月"]),
    st.sampled_from(["", "  ", "\t", "日  "]),
)
LEGACY_TIMES = st.builds(
    lambda year, seps, month, day, hour, minute, second, tail: (
        f"{year}{seps[0]}{month}{seps[1]}{day}{seps[2]}{hour}:{minute}{second}{tail}"
    ),
    st.integers(1990, 2030).map(str) | st.sampled_from(["0000", "99", "20250"]),
    SEPARATORS,
    padded(0, 13),
    padded(0, 32),
    padded(0, 25),
    padded(0, 61),
    st.sampled_from(["", ":00", ":5", ":59", ":60", ":61", ":123", ""]),
    st.sampled_from(["", "", "", "", "+08:00", "Z", ".5", " ", "秒"]),
)


@settings(max_examples=2000, deadline=None)
@given(LEGACY_TIMES)
def test_the_fast_path_reads_every_time_exactly_as_strptime_does(text: str) -> None:
    expected = strptime_only(text.strip())
    local = parse_received_at(text, ZONE)
    if expected is None or expected.tzinfo is not None:
        assert local == expected
    else:
        assert local is not None and local.replace(tzinfo=None) == expected


def test_a_time_with_a_zone_keeps_it() -> None:
    assert parse_received_at("2025-12-01T01:15:00+00:00", ZONE) == datetime(2025, 12, 1, 1, 15, tzinfo=UTC)


@pytest.mark.parametrize("written", ["2025-12-01", "昨天", "", "25:61", "2025-13-01 09:00"])
def test_a_cell_that_is_not_a_date_and_time_is_none(written: str) -> None:
    assert parse_received_at(written, ZONE) is None


@pytest.mark.parametrize(
    ("cells", "reason", "message"),
    [
        (row(channel="传真"), "unknown_channel", "渠道 '传真' is not a known channel"),
        (row(at="2025-12-03"), "bad_time", "来电时间 '2025-12-03' is not a date and time"),
        (
            row(at="明天", channel="fax"),
            "unknown_channel",
            "渠道 'fax' is not a known channel; 来电时间 '明天' is not a date and time",
        ),
        (row(text="  "), "invalid_field", "诉求内容: String should have at least 1 character"),
        (row(text="路灯\x00坏了"), "invalid_field", "诉求内容: 含有无法保存的控制字符 U+0000（第 3 个字符）"),
        (row(phone="1" * 41), "invalid_field", "来电号码: String should have at most 40 characters"),
        (row(address="玉" * 501), "invalid_field", "地址: String should have at most 500 characters"),
        (row(at="1999-01-01 00:00"), "bad_time", "来电时间: Value error, received_at must lie between"),
        (
            row(at="2026-12-05 00:00"),
            "bad_time",
            "来电时间: Value error, received_at is 80 h in the future (at most 24 h is accepted)",
        ),
    ],
)
def test_a_bad_row_is_a_row_error_with_its_reason_and_the_files_own_column_names(
    cells: list[str], reason: str, message: str
) -> None:
    outcome = appeal_from_row(cells, HEADER, 7, ZONE, NOW)
    assert isinstance(outcome, RowError)
    assert (outcome.line, outcome.reason) == (7, reason)
    assert outcome.message.startswith(message)


@pytest.mark.parametrize(
    ("written", "channel"),
    [("", "phone"), ("12345热线", "phone"), ("网站", "web"), ("微信", "wechat"), ("ＡＰＰ", "app")]
    + [("短信", "sms"), ("市长信箱", "mailbox"), ("110转办", "transfer_110"), ("12369", "hotline_12369")],
)
def test_channel_names_of_old_systems_map_to_the_contracts_channels(written: str, channel: str) -> None:
    assert appeal(row(channel=written)).channel == channel


def test_full_width_digits_in_the_phone_become_ascii() -> None:
    assert appeal(row(phone="１３８０７３１１２３４")).caller.phone == "13807311234"


def test_a_row_without_a_ticket_number_gets_a_digest_id_that_ignores_unmapped_columns() -> None:
    first = appeal(row(no=""))
    assert first.source_id.startswith("legacy:row-") and len(first.source_id) == len("legacy:row-") + 24
    assert appeal(row(no="", unit="别的单位")).source_id == first.source_id
    assert appeal(row(no="", text="另一件事")).source_id != first.source_id


def test_the_rejection_key_is_what_the_intake_key_would_have_been() -> None:
    assert row_key(row(channel="传真"), HEADER) == "传真:legacy:LG-1"
    assert row_key(row(channel="微信"), HEADER) == "wechat:legacy:LG-1"
    assert source_id_for(row(no=" ＬＧ-1 "), HEADER) == "legacy:LG-1"


def test_decode_csv_reads_utf8_with_or_without_bom_and_gbk() -> None:
    assert decode_csv("工单编号\n".encode()) == ("工单编号\n", "utf-8")
    assert decode_csv(b"\xef\xbb\xbf" + "工单编号\n".encode()) == ("工单编号\n", "utf-8-sig")
    assert decode_csv("工单编号\n堃".encode("gbk")) == ("工单编号\n堃", "gbk")
    with pytest.raises(ValueError, match="UTF-16"):
        decode_csv("工单编号".encode("utf-16"))


def test_the_encoding_is_found_a_chunk_at_a_time_with_the_first_bad_byte_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("shaobao.importers.csv_file.CHUNK_BYTES", 5)  # characters split across chunks
    path = tmp_path / "t.csv"
    for data, found in [
        ("工单编号\n路灯坏了".encode(), "utf-8"),
        (b"\xef\xbb\xbf" + "工单编号\n".encode(), "utf-8-sig"),
        ("工单编号\n堃路灯".encode("gbk"), "gbk"),
    ]:
        path.write_bytes(data)
        assert file_encoding(path) == found == decode_csv(data)[1]
    path.write_bytes("工单编号".encode("gbk") + b"\x81\x20")
    with pytest.raises(ValueError, match=r"neither UTF-8 nor GBK \(byte 8\)"):
        file_encoding(path)


def test_a_large_file_is_scanned_then_read_row_by_row_as_read_csv_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes(SAMPLE.read_text(encoding="utf-8-sig").encode("gbk"))
    scan, table = scan_csv(path), read_csv(path)
    assert (scan.encoding, scan.rows, scan.blank_lines) == ("gbk", 10, 1)
    assert (scan.header, scan.header_raw) == (table.header, table.header_raw)
    assert table.header_raw.startswith("工单编号,") and table.header_raw.endswith("\n")
    assert list(iter_rows(path, scan.encoding)) == table.rows


def test_the_sample_file_keeps_line_numbers_across_a_quoted_newline_and_a_blank_line() -> None:
    table = read_csv(SAMPLE)
    assert table.encoding == "utf-8-sig" and table.blank_lines == 1
    assert [r.line for r in table.rows] == [2, 3, 5, 6, 7, 9, 10, 11, 12, 13]
    assert table.rows[1].raw.count("\n") == 2  # the quoted cell spans lines 3 and 4
    outcomes = [appeal_from_row(r.cells, read_header(table.header), r.line, ZONE, NOW) for r in table.rows]
    errors = [(o.line, o.reason) for o in outcomes if isinstance(o, RowError)]
    assert errors == [(6, "unknown_channel"), (7, "bad_time"), (9, "invalid_field"), (11, "bad_time")]
