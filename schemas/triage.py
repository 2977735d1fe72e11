"""The router's decision about one appeal, recorded on the ticket."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.base import WireModel

AppealTypeCode = Literal["consult", "help", "complaint", "report", "suggestion", "praise"]
Urgency = Literal["normal", "urgent", "emergency"]
Disposition = Literal["instant", "transfer", "dispatch", "manual"]
TownResolution = Literal[
    "address", "text", "landmark", "place", "town_name", "coordinates", "ambiguous", "none"
]


class TriageDecision(WireModel):
    """What the appeal is, where, how urgent, and who must handle it — with the reasons."""

    schema_version: Literal[1] = 1
    appeal_type: AppealTypeCode
    category: str
    urgency: Urgency
    town: str | None
    town_resolution: TownResolution = "none"
    disposition: Disposition
    lead: str | None = None
    co: tuple[str, ...] = ()
    transfer_to: str | None = None
    confidence: float = Field(ge=0, le=1)
    explanation: tuple[str, ...] = ()
    suggestion: tuple[str, ...] = ()
    jurisdiction_version: str = "unversioned"
    # What a person dispatching a manual ticket starts from: the units the best
    # guess would route to, and the towns an ambiguous place could mean.
    suggested_lead: str | None = None
    suggested_co: tuple[str, ...] = ()
    town_candidates: tuple[str, ...] = ()
    # How sure the appeal type is: the weighed share of the type taken (1 when cues decided alone).
    type_confidence: float = Field(default=1.0, ge=0, le=1)
    # The caller is withheld from units as a reporter's would be: the appeal is a report (举报),
    # or triage is unsure whether it is one (the explanation says why).
    caller_withheld: bool = False
    # Another problem raised in the same appeal, routed elsewhere: a person splits it off.
    second_category: str | None = None

    @property
    def reporter_protected(self) -> bool:
        """Whether the caller's identity stays with the hotline (reports, and what may be one)."""
        return self.caller_withheld or self.appeal_type == "report"
