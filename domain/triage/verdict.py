"""The category verdict: the lexicon's reading, checked against the learned model's.

A wrong auto-dispatch costs more than a manual one, so the two opinions
settle the category like this:

- the lexicon is sure and the model does not contradict it: dispatch;
- the lexicon is only just sure, and the model is fairly sure of a category
  that routes elsewhere: a person decides, with both guesses in the suggestion
  (two independent readers disagreeing is the surest sign of a wrong dispatch;
  the veto only ever sends to a person, so it needs no lexicon evidence);
- the lexicon is unsure but the model agrees with its best guess: the close
  call is corroborated, dispatch;
- the lexicon is unsure and the model is very sure of a category the lexicon
  also found evidence for: the model's category is taken;
- anything else: a person decides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from domain.triage.classify import CategoryGuess
from domain.triage.learned import Opinion
from domain.triage.lexicon import Thresholds


@dataclass(frozen=True)
class Verdict:
    """The category taken, whether it is sure enough to act on, and why (in Chinese)."""

    category: str
    confident: bool
    confidence: float
    note: str = ""


SameRouting = Callable[[str, str], bool]


def settle(
    guess: CategoryGuess,
    lexicon_confidence: float,
    opinion: Opinion,
    thresholds: Thresholds,
    same_routing: SameRouting,
    fallback: str,
) -> Verdict:
    """Combine the lexicon's ranked guess with the model's opinion (see the module docstring)."""
    best = guess.best
    code = best.label if best.value > 0 else fallback
    enough = best.value >= thresholds.category_min_score
    lexicon_sure = enough and lexicon_confidence >= thresholds.confidence_floor
    model = opinion.best
    if model is None:
        return Verdict(code, lexicon_sure, lexicon_confidence)
    agrees = best.value > 0 and (model == code or same_routing(model, code))
    share = f"{opinion.probability:.2f}"
    evidence = next((s.value for s in guess.ranked if s.label == model), 0.0)
    # The model's own category must have some lexicon evidence before it may overrule:
    # on its own it is too sure of itself on wording it has never seen.
    backed = evidence >= thresholds.model_evidence_min_score
    if lexicon_sure:
        vetoed = (
            not agrees
            and opinion.probability >= thresholds.model_veto
            and lexicon_confidence < thresholds.model_veto_below
        )
        if not vetoed:
            return Verdict(code, True, lexicon_confidence, "统计模型同意" if agrees else "")
        return Verdict(code, False, lexicon_confidence, f"统计模型判为{model}（{share}），与词表不一致")
    if agrees and enough and lexicon_confidence >= thresholds.model_agree_floor:
        return Verdict(code, True, lexicon_confidence, f"词表把握不足，统计模型同意（{share}）")
    if opinion.probability >= thresholds.model_rescue and backed:
        return Verdict(model, True, opinion.probability, f"词表把握不足，采用统计模型的判断（{share}）")
    note = f"统计模型判为{model}（{share}）" if not agrees else ""
    return Verdict(code, False, lexicon_confidence, note)
