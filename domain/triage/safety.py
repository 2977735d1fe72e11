"""The emergency safety net: danger to life is never left in a routine queue unflagged.

A text may show danger now (someone in the water, a knife, a transfer to a
fraudster under way) in words no category was tuned on. When the category is
not sure, such an appeal is read as the emergency its evidence points to, so
that it is transferred, or handed to a person flagged as a suspected emergency.
When the category is sure (a lift with people trapped in it), it stays, and
the danger signs raise its urgency (`urgency.py`).
"""

from __future__ import annotations

from collections.abc import Callable

from domain.triage.classify import CategoryGuess
from domain.triage.learned import Opinion
from domain.triage.verdict import Verdict


def emergency_verdict(
    verdict: Verdict,
    guess: CategoryGuess,
    opinion: Opinion,
    danger_now: bool,
    model_sure: float,
    is_transfer: Callable[[str], bool],
) -> Verdict:
    """The verdict, switched to an emergency category when the text shows danger and the category is unsure.

    The emergency category is the lexicon's best one with any evidence; failing
    that, the model's when it is at least `model_sure` of it. Without danger
    signs, the model alone being that sure of an emergency also switches it:
    the appeal then goes to a person as a suspected emergency, never transferred
    on the model's word alone (the transfer rule needs danger signs or strong words).
    """
    if verdict.confident or is_transfer(verdict.category):
        return verdict
    lexicon = next((s for s in guess.ranked if s.value > 0 and is_transfer(s.label)), None)
    model = opinion.best if opinion.best is not None and is_transfer(opinion.best) else None
    model_says = model is not None and opinion.probability >= model_sure
    if danger_now and lexicon is not None:
        return Verdict(lexicon.label, False, verdict.confidence, "文中有现场危险表述，按紧急警情处理")
    if model is not None and model_says:
        note = "统计模型疑似紧急警情" + ("，文中有现场危险表述" if danger_now else "")
        return Verdict(model, False, verdict.confidence, note)
    return verdict


def emergency_share(opinion: Opinion, is_transfer: Callable[[str], bool]) -> float:
    """How likely the learned model finds it that this is an emergency (any 110/119/120 category).

    Summed over the emergency categories: an appeal the model splits between
    police and medical is still an emergency. A share this high on an appeal
    the lexicon reads as routine sends it to a person with its urgency raised,
    never to a unit as an ordinary work order.
    """
    return sum(probability for code, probability in opinion.ranked if is_transfer(code))
