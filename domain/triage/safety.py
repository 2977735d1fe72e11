"""The emergency safety net: danger to life is never left in a routine queue unflagged.

A text may show danger now (someone in the water, a knife, a transfer to a
fraudster under way) in words no category was tuned on. When the category is
not sure, such an appeal is read as the emergency its lexicon evidence points
to, so that it is transferred, or handed to a person flagged as an emergency.
When the category is sure (a lift with people trapped in it), it stays, and
the danger signs raise its urgency (`urgency.py`). Independently, an appeal
whose weighed reading puts a fair share on the emergency lines goes to a
person, urgent, never to a unit as an ordinary work order (`triager.py`).
"""

from __future__ import annotations

from collections.abc import Callable

from domain.triage.classify import CategoryGuess
from domain.triage.verdict import Verdict


def emergency_verdict(
    verdict: Verdict, guess: CategoryGuess, danger_now: bool, is_transfer: Callable[[str], bool]
) -> Verdict:
    """The verdict, switched to an emergency category when the text shows danger and the category is unsure.

    The emergency category is the lexicon's best one with any evidence; without
    any, the safety net of the weighed emergency share still applies.
    """
    if verdict.confident or is_transfer(verdict.category) or not danger_now:
        return verdict
    lexicon = next((s.label for s in guess.ranked if s.value > 0 and is_transfer(s.label)), None)
    if lexicon is None:
        return verdict
    note = "文中有现场危险表述，按紧急警情处理"
    return Verdict(lexicon, False, verdict.confidence, note, verdict.ranked)


def suspected_emergency(
    verdict: Verdict,
    guess: CategoryGuess,
    danger_now: bool,
    is_transfer: Callable[[str], bool],
    share_floor: float,
    hint_floor: float,
    sure_hint_floor: float,
) -> str:
    """Why a routine reading may be an emergency after all, in Chinese ('' when nothing suggests it).

    Either the weighed reading puts at least `share_floor` on the emergency lines
    (summed: an appeal split between police and medical is still an emergency),
    or the lexicon's first choice is an emergency line with `hint_floor` points (the
    model, taught on routine appeals, must not outvote it silently), or the text shows
    danger now and an emergency line has `hint_floor` lexicon points (`sure_hint_floor`
    when the category cleared the calibrated gate: a lift with people trapped in it is the
    lift unit's urgent work, unless the emergency words are as strong as a 110 call's).
    """
    share = verdict.share(is_transfer)
    if share >= share_floor:
        return f"综合判断可能是紧急警情（{share:.2f}）"
    first = guess.best
    if is_transfer(first.label) and first.value >= hint_floor:
        return f"词表首选紧急警情，命中{'、'.join(first.hits[:3])}"
    hint = max((s for s in guess.ranked if is_transfer(s.label)), key=lambda s: s.value, default=None)
    floor = sure_hint_floor if verdict.confident else hint_floor
    if danger_now and hint is not None and hint.value >= floor:
        return f"文中有现场危险表述，且命中紧急警情词语{'、'.join(hint.hits[:3])}"
    return ""
