"""The filters of GeoReport's `GET requests`, parsed and defaulted as the spec describes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from domain.open311.services import Open311Error, field

# The spec lets a server bound a query: without dates, the last 90 days; never more than 1000
# ids. A listing comes in pages (`page`, from 1, and `page_size`, as Open311 servers commonly
# take them): 50 requests by default, at most 200.
DEFAULT_WINDOW = timedelta(days=90)
MAX_REQUESTS = 1000
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_PAGE = 1000

RequestStatus = Literal["open", "closed"]


@dataclass(frozen=True)
class RequestQuery:
    """Which tickets a `GET requests` asks for; empty tuples and None mean no filter."""

    ticket_ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    received_from: datetime | None = None
    received_to: datetime | None = None
    status: RequestStatus | None = None
    limit: int = MAX_REQUESTS
    offset: int = 0


def parse_request_query(params: Mapping[str, str], now: datetime, timezone: str) -> RequestQuery:
    """`service_request_id` (comma list) overrides every other filter, as the spec says; otherwise
    service_code (comma list), start_date/end_date (requested between) and status (open|closed)."""
    ids = _comma_list(params, "service_request_id")
    if ids:
        if len(ids) > MAX_REQUESTS:
            raise Open311Error(400, f"at most {MAX_REQUESTS} service_request_id values")
        return RequestQuery(ticket_ids=ids)
    end = _date(params, "end_date", timezone) or now
    start = _date(params, "start_date", timezone) or end - DEFAULT_WINDOW
    if start > end:
        raise Open311Error(400, "start_date is after end_date")
    page, size = _page(params)
    return RequestQuery(
        service_codes=_comma_list(params, "service_code"),
        received_from=start,
        received_to=end,
        status=_status(params),
        limit=size,
        offset=(page - 1) * size,
    )


def _page(params: Mapping[str, str]) -> tuple[int, int]:
    page = _number(params, "page", 1, MAX_PAGE)
    return page, _number(params, "page_size", PAGE_SIZE, MAX_PAGE_SIZE)


def _number(params: Mapping[str, str], name: str, default: int, most: int) -> int:
    raw = field(params, name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not 1 <= int(raw) <= most:
        raise Open311Error(400, f"{name} must be a whole number from 1 to {most}")
    return int(raw)


def _comma_list(params: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = field(params, name) or ""
    return tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))


def _date(params: Mapping[str, str], name: str, timezone: str) -> datetime | None:
    """A w3c datetime; one without an offset is read in the jurisdiction's local time."""
    raw = field(params, name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise Open311Error(400, f"{name} is not an ISO 8601 datetime: {raw}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment


def _status(params: Mapping[str, str]) -> RequestStatus | None:
    wanted = set(_comma_list(params, "status"))
    unknown = wanted - {"open", "closed"}
    if unknown:
        raise Open311Error(400, f"status must be open or closed, not {', '.join(sorted(unknown))}")
    if len(wanted) == 1:
        return "open" if "open" in wanted else "closed"
    return None  # neither or both: every status
