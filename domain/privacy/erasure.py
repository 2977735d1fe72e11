"""Erasing one person from the record, found by their mobile number (`shaobao privacy erase`).

An appeal concerns the person when they called (the caller's phone is theirs) or when their
number is written in its text or address, in any form `privacy.scrub_identifiers` reads
(138-0731-1234, +86 138…, full-width digits, 幺三八…). Erased, such an appeal keeps what the
hotline needs to account for the ticket (its category, units, times, the problem as
described) and loses the person: the caller's name and phone, their number and name wherever
written, and every other personal number in its words.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.privacy.masking import mobile_numbers, replace_mobile, scrub_identifiers
from domain.ticket.fold import TicketState
from schemas.appeal import Appeal, Caller
from schemas.events import Citizen

ERASED = "（已删除）"
# How long the store keeps raw records (SECURITY.md): a refused original long enough to be
# repaired and replayed, a dead letter long enough for the agent's bug to be found and fixed.
REJECTIONS_KEPT = timedelta(days=180)
DEAD_LETTERS_KEPT = timedelta(days=365)


def national_mobile(phone: str) -> str | None:
    """An 11-digit mainland mobile number from how someone gave it, or None if it is not one."""
    found = mobile_numbers(phone)
    return next(iter(found)) if len(found) == 1 else None


def _is_theirs(caller: Caller, mobile: str) -> bool:
    return caller.phone is not None and national_mobile(caller.phone) == mobile


def _erased_words(text: str, mobile: str, name: str | None) -> str:
    if name and len(name.strip()) >= 2:
        text = text.replace(name.strip(), ERASED)
    return scrub_identifiers(replace_mobile(text, mobile, ERASED))


def erase_appeal(appeal: Appeal, mobile: str) -> Appeal | None:
    """The appeal without the person; None when it does not concern them."""
    called = _is_theirs(appeal.caller, mobile)
    if not (called or mobile in mobile_numbers(appeal.text) | mobile_numbers(appeal.address)):
        return None
    name = appeal.caller.name if called else None
    return appeal.model_copy(
        update={
            "text": _erased_words(appeal.text, mobile, name),
            "address": _erased_words(appeal.address, mobile, name),
            "caller": Caller() if called else appeal.caller,
        }
    )


def erase_citizen(citizen: Citizen, mobile: str) -> Citizen | None:
    """A merged ticket's other citizen (多人反映) without their identity, when it is them."""
    return citizen.model_copy(update={"caller": Caller()}) if _is_theirs(citizen.caller, mobile) else None


def erase_state(state: TicketState, mobile: str) -> TicketState | None:
    """The ticket without the person, or None when nothing in it concerns them."""
    appeal = erase_appeal(state.appeal, mobile)
    citizens = [erase_citizen(c, mobile) for c in state.citizens]
    if appeal is None and all(c is None for c in citizens):
        return None
    return state.model_copy(
        update={
            "appeal": appeal or state.appeal,
            "citizens": tuple(erased or kept for erased, kept in zip(citizens, state.citizens, strict=True)),
        }
    )


def erase_event_payload(payload: dict[str, Any], mobile: str) -> dict[str, Any] | None:
    """A recorded event (as stored, JSON) without the person, or None when it does not concern them.
    Only two kinds carry a person: `ticket_received` (the appeal) and `appeal_merged` (a citizen)."""
    if isinstance(payload.get("appeal"), dict):
        appeal = erase_appeal(Appeal.model_validate(payload["appeal"]), mobile)
        return None if appeal is None else {**payload, "appeal": appeal.model_dump(mode="json")}
    if isinstance(payload.get("citizen"), dict):
        citizen = erase_citizen(Citizen.model_validate(payload["citizen"]), mobile)
        return None if citizen is None else {**payload, "citizen": citizen.model_dump(mode="json")}
    return None
