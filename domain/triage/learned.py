"""A learned second opinion on the category: naive Bayes over character n-grams.

The lexicon says what a category is by the words a city chose; this model
learns from labelled appeals how citizens actually put it. It is trained when
the triager is built (a few hundred milliseconds for the shipped examples),
so it follows whatever labelled data and jurisdiction are in force, and it
needs no library beyond the standard one.

Binary features (an n-gram counts once per appeal) and a small smoothing
constant suit short texts and few examples per category; both were chosen by
cross-validation on the shipped corpus (see the triage report).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Punctuation and the filler that masks place names never belong to an n-gram.
_BREAKS = frozenset('，。；！？、：,.;!?:"“”‘’（）()【】 \n\t＿')


@dataclass(frozen=True)
class LabelledText:
    """One training example: an appeal's text (as the triager reads it) and its category."""

    text: str
    category: str


def ngrams(text: str, longest: int) -> frozenset[str]:
    """The distinct character n-grams (1..longest) that do not cross punctuation or masked places."""
    grams: set[str] = set()
    run: list[str] = []
    for char in (*text, "。"):
        if char in _BREAKS:
            piece = "".join(run)
            for size in range(1, longest + 1):
                grams.update(piece[i : i + size] for i in range(len(piece) - size + 1))
            run = []
        else:
            run.append(char)
    return frozenset(grams)


@dataclass(frozen=True)
class Opinion:
    """The model's ranked categories with their posterior probabilities, best first."""

    ranked: tuple[tuple[str, float], ...]

    @property
    def best(self) -> str | None:
        return self.ranked[0][0] if self.ranked else None

    @property
    def probability(self) -> float:
        return self.ranked[0][1] if self.ranked else 0.0

    def of(self, category: str) -> float:
        """The probability the model gives one category (0 when it does not know it)."""
        return next((p for code, p in self.ranked if code == category), 0.0)


NO_OPINION = Opinion(())


class NaiveBayes:
    """Multinomial naive Bayes on binary character n-grams, with sparse per-class weights.

    The score of a class is its log prior plus, for each known n-gram in the
    text, log P(n-gram | class). Most n-grams are seen in few classes, so each
    n-gram keeps only the classes it was seen in; the unseen share is folded
    into a per-class constant, and one decision costs a few thousand additions.
    """

    def __init__(
        self,
        classes: tuple[str, ...],
        base: tuple[float, ...],
        unseen: tuple[float, ...],
        seen: Mapping[str, Mapping[int, float]],
        longest: int,
    ) -> None:
        self._classes = classes
        self._base = base
        self._unseen = unseen
        self._seen = dict(seen)
        self._longest = longest

    @classmethod
    def train(cls, examples: Iterable[LabelledText], alpha: float = 0.02, longest: int = 2) -> NaiveBayes:
        """Count n-grams per category; `alpha` is the additive smoothing."""
        docs: Counter[str] = Counter()
        counts: dict[str, Counter[str]] = {}
        for example in examples:
            docs[example.category] += 1
            counts.setdefault(example.category, Counter()).update(ngrams(example.text, longest))
        classes = tuple(sorted(docs))
        vocabulary = {gram for counter in counts.values() for gram in counter}
        total = sum(docs.values())
        denominators = [math.log(sum(counts[c].values()) + alpha * len(vocabulary)) for c in classes]
        seen: dict[str, dict[int, float]] = {}
        for index, code in enumerate(classes):
            for gram, count in counts[code].items():
                # Stored as the gain over an unseen n-gram, so the unseen case costs nothing.
                seen.setdefault(gram, {})[index] = math.log((count + alpha) / alpha)
        base = tuple(math.log(docs[c] / total) for c in classes)
        unseen = tuple(math.log(alpha) - d for d in denominators)
        return cls(classes, base, unseen, seen, longest)

    @property
    def categories(self) -> tuple[str, ...]:
        return self._classes

    def opinion(self, text: str) -> Opinion:
        """Posterior probabilities of the categories for this text, best first."""
        if not self._classes:
            return NO_OPINION
        known = [self._seen[g] for g in ngrams(text, self._longest) if g in self._seen]
        scores = [b + len(known) * u for b, u in zip(self._base, self._unseen, strict=True)]
        for gains in known:
            for index, gain in gains.items():
                scores[index] += gain
        top = max(scores)
        weights = [math.exp(s - top) for s in scores]
        norm = sum(weights)
        ranked = sorted(zip(self._classes, (w / norm for w in weights), strict=True), key=lambda p: -p[1])
        return Opinion(tuple(ranked))
