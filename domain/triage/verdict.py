"""The category verdict: the lexicon's reading and the learned model's, weighed together.

Each category scores `lexicon_weight` × its lexicon points plus the log of the
probability the model gives it; the softmax of these scores is the verdict's
distribution, and its best category is the verdict. Neither reader overrules
the other: a lexicon hit the model has never seen in that sense still counts,
and wording the lexicon lacks still reaches the model.

The confidence is the share of that distribution on categories routed exactly
like the best one (confusing 施工噪音 with 违建 matters, confusing two labels for
the same units does not). An appeal is dispatched automatically only when the
confidence reaches the gate, which the triager calibrates on labelled appeals
it did not learn from (`gate.py`); below it a person decides, with the verdict
as the suggestion. A decisive lexicon rule (an official taking money is a
conduct complaint) names the category whatever the model says.

Without a model the lexicon decides alone, on its own confidence (how far the
best category stands clear of the next one routed elsewhere).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from domain.triage.classify import CategoryGuess
from domain.triage.learned import Opinion, weighed

SameRouting = Callable[[str, str], bool]


@dataclass(frozen=True)
class Verdict:
    """The category taken, whether it is sure enough to act on, and why (in Chinese).

    `ranked` is the weighed distribution over categories, best first (empty when
    the lexicon decided alone).
    """

    category: str
    confident: bool
    confidence: float
    note: str = ""
    ranked: tuple[tuple[str, float], ...] = ()

    def share(self, accept: Callable[[str], bool]) -> float:
        """The probability of the categories `accept` picks (e.g. every emergency line)."""
        return sum(p for code, p in self.ranked if accept(code))


def weigh(guess: CategoryGuess, opinion: Opinion, lexicon_weight: float) -> tuple[tuple[str, float], ...]:
    """The distribution over categories from lexicon points and model probabilities, best first."""
    points = {score.label: score.value for score in guess.ranked}
    model = dict(opinion.ranked)
    # The model has no say on a category it has no examples of: it gets a uniform guess's
    # share, and is a candidate only when the lexicon found evidence for it.
    unknown = 1.0 / (len(model) + 1)
    candidates = model.keys() | {code for code, value in points.items() if value > 0}
    scores = weighed(candidates or points.keys(), points, model, lexicon_weight, unknown)
    top = max(scores.values())
    weights = {code: math.exp(value - top) for code, value in scores.items()}
    norm = sum(weights.values())
    return tuple(sorted(((code, w / norm) for code, w in weights.items()), key=lambda p: (-p[1], p[0])))


def settle(
    guess: CategoryGuess, opinion: Opinion, lexicon_weight: float, gate: float, same_routing: SameRouting
) -> Verdict:
    """The weighed category, and whether it clears the gate (see the module docstring)."""
    best = guess.best
    ranked = weigh(guess, opinion, lexicon_weight)
    code = best.label if best.decisive else ranked[0][0]
    confidence = sum(p for other, p in ranked if same_routing(other, code))
    return Verdict(code, confidence >= gate, confidence, _note(code, best.label, opinion, confidence), ranked)


def lexicon_verdict(
    guess: CategoryGuess, min_score: float, gate: float, same_routing: SameRouting
) -> Verdict:
    """The lexicon's best category alone: sure with enough evidence and a clear enough lead."""
    best = guess.best
    confidence = lexicon_confidence(guess, min_score, same_routing)
    return Verdict(best.label, best.value >= min_score and confidence >= gate, confidence)


def lexicon_confidence(guess: CategoryGuess, min_score: float, same_routing: SameRouting) -> float:
    """How sure the lexicon alone is: enough evidence, and clear of the next category routed elsewhere.

    Evidence counts in full from twice `min_score`. A decisive rule that fired makes
    the other topics in the text context, not rivals.
    """
    best = guess.best
    strong = 2 * min_score
    sufficiency = min(1.0, best.value / strong) if strong > 0 else 1.0
    if best.decisive:
        return sufficiency
    rival = next((s for s in guess.ranked[1:] if not same_routing(best.label, s.label)), None)
    rival_value = rival.value if rival is not None else 0.0
    separation = (best.value - rival_value) / best.value if best.value > 0 else 0.0
    return max(0.0, min(1.0, sufficiency * (0.4 + 0.6 * separation)))


def _note(code: str, lexicon_best: str, opinion: Opinion, confidence: float) -> str:
    model = opinion.best
    share = f"{opinion.probability:.2f}"
    if model == code:
        said = "统计模型同意" if lexicon_best == code else f"统计模型判为{model}"
    else:
        said = f"统计模型倾向{model}"
    return f"{said}（{share}），综合把握{confidence:.2f}"


def top_alternatives(verdict: Verdict, guess: CategoryGuess, count: int) -> Sequence[str]:
    """The next categories to suggest to a person: the weighed runners-up, else the lexicon's.

    The lexicon's first choice, when it lost, always comes first: the person sees both readings.
    """
    if not verdict.ranked:
        return [s.label for s in guess.ranked if s.label != verdict.category and s.value > 0][:count]
    best = guess.best
    first = [best.label] if best.label != verdict.category and best.value > 0 else []
    weighed = [code for code, p in verdict.ranked if code != verdict.category and p >= 0.02]
    return [*first, *(code for code in weighed if code not in first)][:count]
