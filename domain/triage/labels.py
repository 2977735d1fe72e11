"""Whether a labelled appeal's `expect` follows the jurisdiction's own rules.

Labels are written by people; the routing table decides lead and co, so a label
that disagrees with it is a labelling slip, not a triage error. Checked before a
labelled file is used to train or to grade (see data/corpus/README.md).
"""

from __future__ import annotations

from collections.abc import Mapping

from domain.jurisdiction import Category, Jurisdiction
from domain.triage.urgency import URGENCY_RANK

INSTANT_TYPES = frozenset({"praise", "suggestion"})  # answered on line whatever their category
DISPOSITIONS = frozenset({"instant", "transfer", "dispatch", "manual"})


def label_problems(expect: Mapping[str, object], jurisdiction: Jurisdiction) -> list[str]:
    """What is wrong with one `expect` object; empty when it is consistent."""
    category_code = expect.get("category")
    category = jurisdiction.category_by_code.get(str(category_code))
    if category is None:
        return [f"unknown category {category_code!r}"]
    problems = _field_problems(expect, category, jurisdiction)
    disposition = expect.get("disposition")
    if disposition not in DISPOSITIONS:
        return [*problems, f"unknown disposition {disposition!r}"]
    problems += _disposition_problems(expect, category, disposition)
    if disposition in {"instant", "transfer", "manual"}:
        return problems + _undispatched_problems(expect, category, disposition, jurisdiction)
    return problems + _dispatch_problems(expect, category, jurisdiction)


def _field_problems(
    expect: Mapping[str, object], category: Category, jurisdiction: Jurisdiction
) -> list[str]:
    """A town, appeal type or urgency the jurisdiction does not know, or an urgency too low."""
    problems: list[str] = []
    town = expect.get("town")
    if town is not None and town not in jurisdiction.town_by_code:
        problems.append(f"unknown town {town!r}")
    if expect.get("appeal_type") not in {t.code for t in jurisdiction.appeal_types}:
        problems.append(f"unknown appeal_type {expect.get('appeal_type')!r}")
    urgency = expect.get("urgency")
    if urgency not in URGENCY_RANK:
        problems.append(f"unknown urgency {urgency!r}")
    elif URGENCY_RANK[urgency] < URGENCY_RANK[category.urgency] and expect.get("disposition") != "instant":
        # A praise of the gas company is not urgent; a gas problem to work on is.
        problems.append(f"urgency {urgency} below the category's {category.urgency}")
    return problems


def _disposition_problems(expect: Mapping[str, object], category: Category, disposition: object) -> list[str]:
    """A disposition the category does not allow: transfer exactly when it has an emergency line,
    instant only for an instant category or a praise or suggestion."""
    problems: list[str] = []
    if category.transfer is not None and disposition != "transfer":
        problems.append(f"{category.code} is handed to {category.transfer}: disposition must be transfer")
    if disposition == "transfer" and category.transfer is None:
        problems.append(f"{category.code} has no emergency line to transfer to")
    if disposition == "instant" and not (category.instant or expect.get("appeal_type") in INSTANT_TYPES):
        problems.append(f"instant needs an instant category or a praise/suggestion, not {category.code}")
    return problems


def _undispatched_problems(
    expect: Mapping[str, object], category: Category, disposition: object, jurisdiction: Jurisdiction
) -> list[str]:
    """An appeal nobody is dispatched to names no units; a manual one has no route without a person."""
    problems: list[str] = []
    lead, co, town = expect.get("lead"), expect.get("co"), expect.get("town")
    if lead not in (None, "") or co not in (None, []):
        problems.append(f"{disposition}: lead and co must be empty")
    if disposition == "manual" and jurisdiction.route(category.code, _town(town)) is not None:
        problems.append(f"manual, yet {category.code} in town {town!r} routes without a person")
    return problems


def _dispatch_problems(
    expect: Mapping[str, object], category: Category, jurisdiction: Jurisdiction
) -> list[str]:
    """A dispatched appeal's lead and co are the routing table's, in a town that routes it."""
    lead, co, town = expect.get("lead"), expect.get("co"), expect.get("town")
    route = jurisdiction.route(category.code, _town(town))
    if route is None:
        return [f"dispatch, yet {category.code} needs a town and town is {town!r}: manual"]
    problems: list[str] = []
    if lead != route.lead:
        problems.append(f"lead {lead!r}, the routing table says {route.lead!r}")
    if not isinstance(co, list) or set(co) != set(route.co):
        problems.append(f"co {co!r}, the routing table says {list(route.co)!r}")
    return problems


def _town(town: object) -> str | None:
    return town if isinstance(town, str) else None
