"""Legacy tickets from a CSV export: the column set, and one row → an appeal or a row error.

Columns (a header row is required; Chinese or English names, any order, other columns ignored):

| 中文 | English | appeal field | required |
|---|---|---|---|
| 工单编号 | ticket_no | source_id (`legacy:<工单编号>`) | yes (the cell may be empty) |
| 来电时间 | received_at | received_at | yes |
| 诉求内容 | text | text | yes |
| 来电号码 | phone | caller.phone | no |
| 来电人 | caller_name | caller.name | no |
| 地址 | address | address | no |
| 渠道 | channel | channel (below; empty: phone) | no |

渠道 is a contract channel name or an old system's word for it: 电话/热线/12345 (phone), 网站/网络
(web), 微信 (wechat), 客户端/APP (app), 短信 (sms), 市长信箱/邮件/来信 (mailbox), 110转办 (transfer_110),
12369/环保热线 (hotline_12369); `CHANNEL_NAMES` has them all. The file is UTF-8 (with or without
a BOM) or GBK (Excel's "CSV" on Chinese Windows).

来电时间 is `2026-03-02 09:15[:00]`, `2026/3/2 9:15[:00]`, `2026年3月2日 9:15[:00]` or ISO 8601;
without a zone it is local time of the jurisdiction (old hotline systems stored local time).

The source id is deterministic, so importing the same file twice makes no second ticket:
`legacy:<工单编号>`, or, for a row without a ticket number, `legacy:row-<digest>` of the row's
mapped cells (the same appeal exported again gets the same id; its line number plays no part).
A row that cannot be an appeal is a `RowError` with a reason code (`RowReason`) and a message
naming the columns as the file names them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from schemas.appeal import Appeal, Channel

COLUMNS: dict[str, tuple[str, ...]] = {
    "source_id": ("工单编号", "ticket_no"),
    "received_at": ("来电时间", "received_at"),
    "text": ("诉求内容", "text"),
    "phone": ("来电号码", "phone"),
    "name": ("来电人", "caller_name"),
    "address": ("地址", "address"),
    "channel": ("渠道", "channel"),
}
REQUIRED = ("source_id", "received_at", "text")
SOURCE_PREFIX = "legacy:"
RowReason = Literal["unknown_channel", "bad_time", "invalid_field"]
LABELS = {field: names[0] for field, names in COLUMNS.items()}
CHANNEL_NAMES: dict[str, Channel] = {
    **{name: "phone" for name in ("", "phone", "电话", "热线", "12345", "12345热线", "来电")},
    **{name: "web" for name in ("web", "网站", "网页", "网络", "门户网站", "网上信访")},
    **{name: "wechat" for name in ("wechat", "微信", "微信公众号", "微信小程序")},
    **{name: "app" for name in ("app", "手机app", "客户端", "移动端")},
    **{name: "sms" for name in ("sms", "短信")},
    **{name: "mailbox" for name in ("mailbox", "email", "市长信箱", "信箱", "邮件", "电子邮件", "来信")},
    **{name: "transfer_110" for name in ("transfer_110", "110", "110转办", "110联动", "非警务警情")},
    **{name: "hotline_12369" for name in ("hotline_12369", "12369", "环保热线", "12369环保热线")},
}
TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H:%M",
)
# The layouts above that old systems write most, read without `strptime` (slow, and it
# compiles its patterns again when more than five layouts take turns): the same datetime for
# every text it matches; anything else, or an impossible date, goes through `TIME_FORMATS`.
_COMMON_TIME = re.compile(
    r"(?P<year>[0-9]{4})(?:-(?P<m1>[0-9]{1,2})-(?P<d1>[0-9]{1,2}) |/(?P<m2>[0-9]{1,2})/(?P<d2>[0-9]{1,2}) "
    r"|年(?P<m3>[0-9]{1,2})月(?P<d3>[0-9]{1,2})日(?P<gap> ?))"
    r"(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2}))?"
)


@dataclass(frozen=True)
class Header:
    """Which column holds which field, and the columns no field claims."""

    columns: dict[str, int]
    ignored: tuple[str, ...]


@dataclass(frozen=True)
class RowError:
    """A row that cannot become an appeal: its line, the first problem's code, every problem."""

    line: int
    reason: RowReason
    message: str


def _normal(value: str) -> str:
    """Full-width digits and letters (１２３, ＡＰＰ) as ASCII; surrounding blanks dropped."""
    return unicodedata.normalize("NFKC", value).strip()


def read_header(names: Sequence[str]) -> Header:
    """Map a header row to fields; raises ValueError naming the missing or repeated columns."""
    wanted = {_normal(alias).lower(): field for field, aliases in COLUMNS.items() for alias in aliases}
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for index, name in enumerate(names):
        field = wanted.get(_normal(name).lstrip("\ufeff").lower())
        if field is None:
            ignored.append(name)
        elif field in columns:
            raise ValueError(f"column {LABELS[field]} appears twice")
        else:
            columns[field] = index
    missing = [LABELS[field] for field in REQUIRED if field not in columns]
    if missing:
        raise ValueError(f"missing required columns: {', '.join(missing)} (see `shaobao import --help`)")
    return Header(columns=columns, ignored=tuple(ignored))


def parse_received_at(value: str, timezone: str) -> datetime | None:
    """A legacy timestamp as an aware datetime; naive ones are local time. None if unreadable."""
    text = _normal(value)
    if ":" not in text:
        return None  # a date alone says nothing about when in the day, and limits count hours
    parsed = _parse(text)
    if parsed is None or parsed.tzinfo is not None:
        return parsed
    return parsed.replace(tzinfo=ZoneInfo(timezone))


def _parse(text: str) -> datetime | None:
    common = _common_time(text)
    if common is not None:
        return common
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for layout in TIME_FORMATS:
        try:
            return datetime.strptime(text, layout)  # noqa: DTZ007 - the caller adds the zone
        except ValueError:
            continue
    return None


def _common_time(text: str) -> datetime | None:
    """`text` in one of the common layouts, as `strptime` reads it; None for anything else."""
    found = _COMMON_TIME.fullmatch(text)
    if found is None or (found["gap"] == "" and found["second"] is not None):
        return None  # `2026年3月2日9:15:00`: no layout takes seconds after 日 without a space
    month = found["m1"] or found["m2"] or found["m3"]
    day = found["d1"] or found["d2"] or found["d3"]
    clock = int(found["hour"]), int(found["minute"]), int(found["second"] or 0)
    try:
        return datetime(int(found["year"]), int(month), int(day), *clock)  # noqa: DTZ001 - the caller adds the zone
    except ValueError:
        return None  # the long way says what an impossible date is


def appeal_from_row(
    row: Sequence[str], header: Header, line: int, timezone: str, now: datetime
) -> Appeal | RowError:
    """One CSV row as an appeal, or every reason it cannot be one."""
    cell = {field: row[index] if index < len(row) else "" for field, index in header.columns.items()}
    problems: list[tuple[RowReason, str]] = []
    channel = CHANNEL_NAMES.get(_normal(cell.get("channel", "")).lower())
    if channel is None:
        problems.append(("unknown_channel", f"渠道 {cell['channel']!r} is not a known channel"))
    received_at = parse_received_at(cell["received_at"], timezone)
    if received_at is None:
        problems.append(("bad_time", f"来电时间 {cell['received_at']!r} is not a date and time"))
    if problems or channel is None or received_at is None:
        return RowError(line, problems[0][0], "; ".join(message for _, message in problems))
    phone, name = _normal(cell.get("phone", "")), cell.get("name", "").strip()
    fields = {
        "channel": channel,
        "source_id": source_id_for(row, header),
        "received_at": received_at.astimezone(UTC),  # UTC on the wire, like every channel
        "text": cell["text"].strip(),
        "address": cell.get("address", "").strip(),
        "caller": {"name": name or None, "phone": phone or None},
    }
    try:
        return Appeal.model_validate(fields, context={"now": now})
    except ValidationError as exc:
        reason: RowReason = "bad_time" if _about_time(exc) else "invalid_field"
        return RowError(line, reason, _describe(exc))


def source_id_for(row: Sequence[str], header: Header) -> str:
    """`legacy:<工单编号>`; without a number, `legacy:row-<digest>` of the mapped cells."""
    ticket_no = _cell(row, header, "source_id")
    if ticket_no:
        return f"{SOURCE_PREFIX}{ticket_no}"
    mapped = "\x1f".join(_cell(row, header, field) for field in COLUMNS if field != "source_id")
    return f"{SOURCE_PREFIX}row-{hashlib.sha256(mapped.encode()).hexdigest()[:24]}"


def _about_time(exc: ValidationError) -> bool:
    return all(error["loc"][:1] == ("received_at",) for error in exc.errors())


def row_key(row: Sequence[str], header: Header) -> str:
    """The intake key a row would have had (`channel:source_id`), for filing its rejection."""
    written = _cell(row, header, "channel")
    return f"{CHANNEL_NAMES.get(written.lower(), written)}:{source_id_for(row, header)}"


def _cell(row: Sequence[str], header: Header, field: str) -> str:
    index = header.columns.get(field)
    return _normal(row[index]) if index is not None and index < len(row) else ""


def _describe(exc: ValidationError) -> str:
    """Validation errors in the file's own words: the column, not the wire field."""
    column = {"source_id": "工单编号", "received_at": "来电时间", "text": "诉求内容", "address": "地址"}
    column |= {"caller.phone": "来电号码", "caller.name": "来电人"}
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        parts.append(f"{column.get(where, where)}: {error['msg']}")
    return "; ".join(parts)
