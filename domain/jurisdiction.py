"""The jurisdiction: towns, units, categories, routes and time limits.

A city deploys Shaobao by writing one file in this format. This module only
validates an already-parsed mapping (reading the file is `infra`'s job), so
the domain stays free of I/O.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

TOWN_PLACEHOLDER = "town"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DurationUnit(StrEnum):
    WORKING_DAY = "wd"
    WORKING_HOUR = "wh"
    HOUR = "h"
    MINUTE = "min"


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(wd|wh|h|min)\s*$")


class Duration(_Frozen):
    """A time limit as written in the jurisdiction file: `2wh`, `5wd`, `24h`, `30min`."""

    amount: float
    unit: DurationUnit

    @classmethod
    def parse(cls, text: str) -> Duration:
        match = _DURATION.match(text)
        if match is None:
            raise ValueError(f"not a duration: {text!r} (expected e.g. 2wh, 5wd, 24h, 30min)")
        return cls(amount=float(match.group(1)), unit=DurationUnit(match.group(2)))

    @property
    def is_working_time(self) -> bool:
        return self.unit in (DurationUnit.WORKING_DAY, DurationUnit.WORKING_HOUR)

    def __str__(self) -> str:
        amount = int(self.amount) if self.amount.is_integer() else self.amount
        return f"{amount}{self.unit.value}"


def _duration(value: object) -> object:
    return Duration.parse(value) if isinstance(value, str) else value


TownKind = Literal["urban", "rural"]


class Town(_Frozen):
    code: str
    name: str
    kind: TownKind
    places: tuple[str, ...] = ()
    landmarks: tuple[str, ...] = ()
    # Optional outline as (lon, lat) vertices, so an app's coordinates can name the town.
    boundary: tuple[tuple[float, float], ...] = ()


class AmbiguousPlace(_Frozen):
    place: str
    towns: tuple[str, ...]


class Unit(_Frozen):
    code: str
    name: str
    role: str = ""


class AppealType(_Frozen):
    code: str
    name: str


class Route(_Frozen):
    lead: str
    co: tuple[str, ...] = ()


Urgency = Literal["normal", "urgent", "emergency"]


class Category(_Frozen):
    code: str
    name: str
    lead: str
    co: tuple[str, ...] = ()
    route_by_town_kind: dict[TownKind, Route] = Field(default_factory=dict)
    urgency: Urgency = "normal"
    instant: bool = False
    transfer: str | None = None

    def route_for(self, town_kind: TownKind | None) -> Route:
        """The lead/co template for a town of this kind (`town` not yet substituted)."""
        if town_kind is not None and town_kind in self.route_by_town_kind:
            return self.route_by_town_kind[town_kind]
        return Route(lead=self.lead, co=self.co)

    @property
    def needs_town(self) -> bool:
        routes = [Route(lead=self.lead, co=self.co), *self.route_by_town_kind.values()]
        return any(TOWN_PLACEHOLDER in (r.lead, *r.co) for r in routes)


class ByTownKind(_Frozen):
    urban: Duration
    rural: Duration

    _parse = field_validator("urban", "rural", mode="before")(_duration)

    def for_kind(self, kind: TownKind) -> Duration:
        return self.urban if kind == "urban" else self.rural


class UrgencyLimits(_Frozen):
    sign: Duration
    complete: Duration
    on_scene: ByTownKind | None = None

    _parse = field_validator("sign", "complete", mode="before")(_duration)


class WhistleReportLimits(_Frozen):
    urgent: ByTownKind
    normal: Duration

    _parse = field_validator("normal", mode="before")(_duration)


class TimeLimits(_Frozen):
    normal: UrgencyLimits
    urgent: UrgencyLimits
    emergency: UrgencyLimits
    callback: Duration
    rework: Duration
    extension_max: Duration
    whistle_report: WhistleReportLimits
    warn_at: float = Field(gt=0, lt=1)
    escalate_after_overdue: Duration

    _parse = field_validator("callback", "rework", "extension_max", "escalate_after_overdue", mode="before")(
        _duration
    )

    def for_urgency(self, urgency: Urgency) -> UrgencyLimits:
        limits: UrgencyLimits = getattr(self, urgency)
        return limits


class WorkingHours(_Frozen):
    """One working period of a working day, local time, `HH:MM`."""

    start: str = Field(pattern=r"^\d{2}:\d{2}$")
    end: str = Field(pattern=r"^\d{2}:\d{2}$")


class CalendarSettings(_Frozen):
    """The working calendar's local settings; national holidays come from the calendar data.

    `days_off` and `working_days` (ISO dates) override the national calendar for
    this city: an extra day off, or an extra make-up working day.
    """

    working_hours: tuple[WorkingHours, ...] = (
        WorkingHours(start="09:00", end="12:00"),
        WorkingHours(start="13:30", end="17:30"),
    )
    days_off: tuple[str, ...] = ()
    working_days: tuple[str, ...] = ()


class JurisdictionInfo(_Frozen):
    code: str
    name: str
    timezone: str


class Jurisdiction(_Frozen):
    """One jurisdiction's reference data, validated and cross-checked."""

    jurisdiction: JurisdictionInfo
    towns: tuple[Town, ...]
    ambiguous: tuple[AmbiguousPlace, ...] = ()
    units: tuple[Unit, ...]
    appeal_types: tuple[AppealType, ...]
    categories: tuple[Category, ...]
    time_limits: TimeLimits
    leadership_dispatch_days: tuple[int, ...] = ()
    calendar: CalendarSettings = Field(default_factory=CalendarSettings)
    version: str = "unversioned"

    @model_validator(mode="after")
    def _routes_name_known_units(self) -> Jurisdiction:
        known = set(self.unit_codes) | {TOWN_PLACEHOLDER}
        for category in self.categories:
            routes = [Route(lead=category.lead, co=category.co), *category.route_by_town_kind.values()]
            for route in routes:
                unknown = {route.lead, *route.co} - known
                if unknown:
                    raise ValueError(f"category {category.code} routes to unknown units {sorted(unknown)}")
        town_codes = set(self.town_by_code)
        for entry in self.ambiguous:
            if not set(entry.towns) <= town_codes:
                raise ValueError(f"ambiguous place {entry.place} names unknown towns {entry.towns}")
        return self

    @property
    def code(self) -> str:
        return self.jurisdiction.code

    @property
    def timezone(self) -> str:
        return self.jurisdiction.timezone

    @property
    def town_by_code(self) -> dict[str, Town]:
        return {town.code: town for town in self.towns}

    @property
    def category_by_code(self) -> dict[str, Category]:
        return {category.code: category for category in self.categories}

    @property
    def unit_codes(self) -> tuple[str, ...]:
        """Every unit that can receive work orders: the departments and every town."""
        return tuple(unit.code for unit in self.units) + tuple(town.code for town in self.towns)

    def unit_name(self, code: str) -> str:
        for unit in self.units:
            if unit.code == code:
                return unit.name
        town = self.town_by_code.get(code)
        return town.name if town else code

    def route(self, category_code: str, town_code: str | None) -> Route | None:
        """Lead and co units for a category in a town, with `town` substituted.

        Returns None when the route needs a town and none is known (manual dispatch).
        """
        category = self.category_by_code[category_code]
        town = self.town_by_code.get(town_code) if town_code else None
        template = category.route_for(town.kind if town else None)
        names = (template.lead, *template.co)
        if TOWN_PLACEHOLDER in names and town is None:
            return None

        def substitute(code: str) -> str:
            return town.code if code == TOWN_PLACEHOLDER and town else code

        lead = substitute(template.lead)
        co = tuple(dict.fromkeys(c for c in map(substitute, template.co) if c != lead))
        return Route(lead=lead, co=co)


def _rejoin_unit_roles(units: object) -> object:
    """Undo YAML's split of an unquoted role text at its commas.

    In a flow mapping `{code: x, name: y, role: a, b, c}` YAML reads `b` and `c`
    as keys with no value. The reference file is written that way, so a city's
    will be too: the orphan keys are folded back into `role`.
    """
    if not isinstance(units, list):
        return units
    rejoined: list[object] = []
    for unit in units:
        if isinstance(unit, dict) and "role" in unit:
            orphans = [k for k, v in unit.items() if v is None and k not in ("code", "name", "role")]
            known = {k: v for k, v in unit.items() if k not in orphans}
            known["role"] = ", ".join([str(unit["role"]), *map(str, orphans)])
            rejoined.append(known)
        else:
            rejoined.append(unit)
    return rejoined


def parse_jurisdiction(data: object, version: str = "unversioned") -> Jurisdiction:
    """Validate a parsed jurisdiction mapping; raises `pydantic.ValidationError` with every problem."""
    if not isinstance(data, dict):
        raise ValueError("a jurisdiction file must hold a mapping at its top level")
    return Jurisdiction.model_validate(
        {**data, "units": _rejoin_unit_roles(data.get("units")), "version": version}
    )
