"""Open311 GeoReport v2 in the hotline's terms: categories are services, a POSTed request an appeal.

Pure mapping: the web layer parses HTTP and renders JSON or XML; this module decides
what each field says. Tickets as service requests are in `domain.open311.service_requests`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime

from pydantic import ValidationError

from domain.jurisdiction import TOWN_PLACEHOLDER, Category, Jurisdiction
from schemas.appeal import CHANNELS, Appeal, Caller, Channel, Location

TOWN_LED_GROUP = "属地街道（乡镇）"

FieldValue = str | float | bool


class Open311Error(Exception):
    """A request the GeoReport API answers with an error: `code` is also the HTTP status."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code, self.description = code, description


@dataclass(frozen=True)
class Fields:
    def as_fields(self) -> dict[str, FieldValue]:
        """The spec's fields in the spec's order; absent (None) ones are left out."""
        values = ((f.name, getattr(self, f.name)) for f in fields(self))
        return {name: value for name, value in values if value is not None}


@dataclass(frozen=True)
class Service(Fields):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: str
    group: str


def check_jurisdiction_id(jurisdiction_id: str | None, jurisdiction: Jurisdiction) -> None:
    """`jurisdiction_id` is optional (we serve one jurisdiction); a different one is not ours."""
    if jurisdiction_id and jurisdiction_id != jurisdiction.code:
        raise Open311Error(404, f"jurisdiction_id {jurisdiction_id} not found")


def lead_group(category: Category, jurisdiction: Jurisdiction) -> str:
    """The name of the unit that leads a category; town-led categories go to the town found."""
    if category.lead == TOWN_PLACEHOLDER:
        return TOWN_LED_GROUP
    return jurisdiction.unit_name(category.lead)


def services(jurisdiction: Jurisdiction) -> list[Service]:
    """One realtime service per category, in the jurisdiction file's order."""
    return [
        Service(
            service_code=category.code,
            service_name=category.name,
            description=f"{category.name}（牵头单位：{lead_group(category, jurisdiction)}）",
            metadata=False,
            type="realtime",
            keywords=category.code.replace(".", ","),
            group=lead_group(category, jurisdiction),
        )
        for category in jurisdiction.categories
    ]


def service_definition(service_code: str, jurisdiction: Jurisdiction) -> dict[str, str | list[str]]:
    """A service's definition: no extra attributes are asked for any category."""
    if service_code not in jurisdiction.category_by_code:
        raise Open311Error(404, f"service_code {service_code} not found")
    return {"service_code": service_code, "attributes": []}


def split_token(token: str) -> tuple[Channel, str] | None:
    """A token is the intake key `channel:source_id`; None when it is not one."""
    channel, sep, source_id = token.partition(":")
    for known in CHANNELS:
        if sep and source_id and channel == known:
            return known, source_id
    return None


def field(values: Mapping[str, str], name: str) -> str | None:
    """A submitted field, stripped; blank counts as absent (HTML forms send empty strings)."""
    value = values.get(name, "").strip()
    return value or None


def appeal_from_request(
    values: Mapping[str, str], jurisdiction: Jurisdiction, source_id: str, now: datetime, channel: Channel
) -> Appeal:
    """A POSTed service request as an appeal on `channel` (the one the client's intake key fixes).

    The chosen service's name leads the text, so the router and the people who read
    the ticket see the category the citizen picked. `email` is not kept: an appeal
    has no field for it, and the hotline calls back by phone.
    """
    check_jurisdiction_id(field(values, "jurisdiction_id"), jurisdiction)
    code = field(values, "service_code")
    if code is None:
        raise Open311Error(400, "service_code is required")
    category = jurisdiction.category_by_code.get(code)
    if category is None:
        raise Open311Error(404, f"service_code {code} not found")
    description = field(values, "description")
    if description is None:
        raise Open311Error(400, "description is required: the hotline needs the citizen's words")
    try:
        return Appeal(
            channel=channel,
            source_id=source_id,
            received_at=now,
            text=f"【{category.name}】{description}",
            address=field(values, "address_string") or "",
            caller=Caller(name=_caller_name(values), phone=field(values, "phone")),
            location=_location(values),
        )
    except ValidationError as exc:
        raise Open311Error(400, _summary(exc)) from exc


def _caller_name(values: Mapping[str, str]) -> str | None:
    first, last = field(values, "first_name"), field(values, "last_name")
    if first and last:
        # Chinese names put the family name first with no space; Latin names the other way.
        return f"{first} {last}" if (first + last).isascii() else f"{last}{first}"
    return last or first


def _location(values: Mapping[str, str]) -> Location | None:
    lat, long = field(values, "lat"), field(values, "long")
    if lat is None and long is None:
        return None
    if lat is None or long is None:
        raise Open311Error(400, "lat and long must be sent together")
    try:
        return Location(lat=float(lat), lon=float(long))
    except ValueError as exc:  # not a number, or out of range (ValidationError is a ValueError)
        raise Open311Error(400, f"invalid lat/long: {lat},{long}") from exc


def _summary(exc: ValidationError) -> str:
    """The first problems, by field, without echoing the submitted values (they may hold a phone)."""
    parts = []
    for error in exc.errors()[:3]:
        name = ".".join(map(str, error["loc"]))
        parts.append(f"{_OPEN311_NAMES.get(name, name)}: {error['msg']}")
    return "; ".join(parts)


# Appeal fields by the names the Open311 client sent them under.
_OPEN311_NAMES = {
    "text": "description",
    "address": "address_string",
    "caller.phone": "phone",
    "caller.name": "first_name/last_name",
    "name": "first_name/last_name",
    "source_id": "Idempotency-Key",
}
