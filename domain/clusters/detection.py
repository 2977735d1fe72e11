"""Finding the open ticket a new appeal belongs to: 多人反映 (another citizen about the same
problem: merged, so every citizen is called back) and 重复来电 (the same caller about the
same matter again: marked on the ticket, the new ticket closes into it).

Same problem means: the same category and town, received within `cluster_window` of each
other, and alike in text and place. Text: Jaccard similarity of the character bigrams of
the texts, phone numbers scrubbed, the operator's lead-in ("来电人反映：") and the requests
every appeal makes ("请相关部门尽快处理") dropped. Place: the same address, a village,
community or landmark of the town named by both, or coordinates within `near_m`. The score
is `text_weight`·text + (1 − `text_weight`)·place; at or above `merge_threshold` the appeal
is merged. With the default weights an appeal naming the same place needs a text similarity
of about 0.29, one naming no common place about 0.71 (a copy). Different problems of one
category and town in the labelled corpus score at most 0.17 on text (0.42 with a common
place); paraphrases of one problem 0.32 to 0.67. A repeat call needs the same caller (by a
hash of the phone number) and a score of `repeat_threshold`, within `repeat_window`.

Only dispatched tickets not yet completed take appeals in: after completion a new appeal
about the problem is a new ticket (the unit said it was done). Pure: `now` is passed in.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from domain.jurisdiction import Jurisdiction
from domain.privacy.masking import scrub_identifiers
from schemas.appeal import Appeal
from schemas.clusters import ClusterSignal
from schemas.commands import MergeAppeal, RecordRepeatCall
from schemas.events import (
    TicketAnsweredInstantly,
    TicketClosed,
    TicketCompleted,
    TicketDispatched,
    TicketEvent,
    TicketReceived,
    TicketTransferred,
)

OPERATOR = "auto"
_LEAD_IN = re.compile(r"^[^：:，,。]{0,12}?(?:反映|举报|咨询|投诉|求助|来信|称)[：:，,]?")
# Requests and particles every appeal has: they make different problems look alike.
_FILLER = re.compile(r"请(?:相关|有关)?部门|请尽快|希望|尽快|相关部门|有关部门|处理|解决|一下|[的了很又还请]")


@dataclass(frozen=True)
class ClusterPolicy:
    cluster_window: timedelta = timedelta(hours=72)
    repeat_window: timedelta = timedelta(days=7)
    merge_threshold: float = 0.5
    repeat_threshold: float = 0.35
    text_weight: float = 0.7
    near_m: float = 300.0
    max_members: int = 200  # open tickets remembered per category and town; the oldest go first


POLICY = ClusterPolicy()


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Member(_Frozen):
    """An open ticket that can take appeals in, as the index keeps it (no raw phone numbers)."""

    ticket_id: str
    received_at: datetime
    opened_at: datetime
    text: str
    address: str
    places: tuple[str, ...] = ()
    location: tuple[float, float] | None = None
    callers: tuple[tuple[str, str], ...] = ()  # (ticket id, phone hash): its own and those it took in


class ClusterIndex(_Frozen):
    """The open tickets of one category and town."""

    members: tuple[Member, ...] = ()


class Tracked(_Frozen):
    """What the signal agent remembers of a ticket: its appeal until dispatched, then where."""

    appeal: Appeal | None = None
    category: str | None = None
    town: str | None = None


@dataclass(frozen=True)
class Match:
    kind: Literal["cluster", "repeat"]
    into: str
    score: float


def normalised_text(text: str) -> str:
    """The words of an appeal: phone numbers scrubbed, the lead-in, requests and particles
    dropped, letters and digits only."""
    plain = unicodedata.normalize("NFKC", scrub_identifiers(text)).strip()
    return "".join(ch for ch in _FILLER.sub("", _LEAD_IN.sub("", plain, count=1)) if ch.isalnum())


def text_similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two texts' character bigrams (both already normalised)."""
    first, second = _bigrams(a), _bigrams(b)
    union = first | second
    return len(first & second) / len(union) if union else 0.0


def _bigrams(text: str) -> frozenset[str]:
    return frozenset(text[i : i + 2] for i in range(len(text) - 1)) or frozenset({text})


def phone_hash(phone: str | None) -> str | None:
    """A stable key for a caller's number (its last 11 digits); None when there is no number.

    Keeps numbers out of the index's changelog; a short number space is not a secret, so the
    index stays as private as the tickets themselves.
    """
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", phone or "") if ch.isdigit())
    if len(digits) < 5:
        return None
    return hashlib.sha256(f"shaobao-caller:{digits[-11:]}".encode()).hexdigest()[:20]


def town_places(jurisdiction: Jurisdiction, town: str) -> tuple[str, ...]:
    """The villages, communities and landmarks of a town, which citizens name."""
    found = jurisdiction.town_by_code.get(town)
    return (*found.places, *found.landmarks) if found else ()


def member_of(ticket_id: str, appeal: Appeal, places: Sequence[str], opened_at: datetime) -> Member:
    said = f"{appeal.address} {appeal.text}"
    own = phone_hash(appeal.caller.phone)
    return Member(
        ticket_id=ticket_id,
        received_at=appeal.received_at,
        opened_at=opened_at,
        text=normalised_text(appeal.text),
        address=normalised_text(appeal.address),
        places=tuple(p for p in places if p in said),
        location=(appeal.location.lat, appeal.location.lon) if appeal.location else None,
        callers=((ticket_id, own),) if own else (),
    )


def similarity(a: Member, b: Member, policy: ClusterPolicy = POLICY) -> float:
    place = 1.0 if _same_place(a, b, policy) else 0.0
    return policy.text_weight * text_similarity(a.text, b.text) + (1 - policy.text_weight) * place


def _same_place(a: Member, b: Member, policy: ClusterPolicy) -> bool:
    if a.address and a.address == b.address:
        return True
    if set(a.places) & set(b.places):
        return True
    return (
        a.location is not None and b.location is not None and _metres(a.location, b.location) <= policy.near_m
    )


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    (lat1, lon1), (lat2, lon2) = (map(math.radians, a), map(math.radians, b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


def best_match(members: Sequence[Member], new: Member, policy: ClusterPolicy = POLICY) -> Match | None:
    """The open ticket the new appeal belongs to: a repeat of one of its callers first, then the
    most similar; None below the thresholds."""
    own = {h for t, h in new.callers if t == new.ticket_id}
    best: Match | None = None
    for member in members:
        if member.ticket_id == new.ticket_id:
            continue
        apart = abs(new.received_at - member.received_at)
        score = round(similarity(new, member, policy), 3)
        callers = {h for t, h in member.callers if t != new.ticket_id}
        if own & callers and score >= policy.repeat_threshold and apart <= policy.repeat_window:
            found = Match("repeat", member.ticket_id, score)
        elif score >= policy.merge_threshold and apart <= policy.cluster_window:
            found = Match("cluster", member.ticket_id, score)
        else:
            continue
        if best is None or (found.kind == "repeat", found.score) > (best.kind == "repeat", best.score):
            best = found
    return best


def track(tracked: Tracked | None, event: TicketEvent) -> tuple[Tracked | None, ClusterSignal | None]:
    """What the signal agent keeps of a ticket after one of its events, and the signal it sends."""
    match event:
        case TicketReceived():
            return Tracked(appeal=event.appeal), None
        case TicketDispatched() if tracked is not None and tracked.appeal is not None and event.town:
            opened = ClusterSignal(
                kind="opened",
                ticket_id=event.ticket_id,
                category=event.category,
                town=event.town,
                at=event.occurred_at,
                appeal=tracked.appeal,
            )
            return Tracked(category=event.category, town=event.town), opened
        case TicketCompleted() | TicketClosed() | TicketAnsweredInstantly() | TicketTransferred():
            if tracked is None or tracked.category is None or tracked.town is None:
                return None, None
            left = ClusterSignal(
                kind="left",
                ticket_id=event.ticket_id,
                category=tracked.category,
                town=tracked.town,
                at=event.occurred_at,
            )
            return None, left
    return tracked, None


def on_signal(
    index: ClusterIndex | None,
    signal: ClusterSignal,
    places: Sequence[str],
    now: datetime,
    policy: ClusterPolicy = POLICY,
) -> tuple[ClusterIndex, tuple[MergeAppeal | RecordRepeatCall, ...]]:
    """The index after a signal, and the merge or repeat-call command it calls for.

    A signal read again (after a restart) finds the same ticket and makes the same command,
    with the same id, which the ticket agent ignores.
    """
    members = tuple(m for m in (index.members if index else ()) if now - m.opened_at <= policy.repeat_window)
    if signal.kind == "left":
        return ClusterIndex(members=tuple(m for m in members if m.ticket_id != signal.ticket_id)), ()
    if signal.appeal is None or any(m.ticket_id == signal.ticket_id for m in members):
        return ClusterIndex(members=members), ()
    new = member_of(signal.ticket_id, signal.appeal, places, signal.at)
    found = best_match(members, new, policy)
    if found is None:
        return ClusterIndex(members=(*members, new)[-policy.max_members :]), ()
    taken = tuple(_took_in(m, new) if m.ticket_id == found.into else m for m in members)
    return ClusterIndex(members=taken), (_command(found, signal.ticket_id, signal.appeal, now),)


def _took_in(member: Member, new: Member) -> Member:
    callers = (*member.callers, *(c for c in new.callers if c not in member.callers))
    return member.model_copy(update={"callers": callers})


def _command(found: Match, source: str, appeal: Appeal, now: datetime) -> MergeAppeal | RecordRepeatCall:
    header = {"ticket_id": found.into, "issued_at": now, "operator": OPERATOR, "role": "system"}
    if found.kind == "repeat":
        return RecordRepeatCall.model_validate(
            header
            | {
                "command_id": f"repeat:{source}",
                "source_ticket_id": source,
                "source_intake_key": appeal.intake_key,
                "source_received_at": appeal.received_at,
                "score": found.score,
            }
        )
    return MergeAppeal.model_validate(
        header
        | {
            "command_id": f"cluster:{source}",
            "source_ticket_id": source,
            "source_appeal": appeal,
            "score": found.score,
        }
    )
