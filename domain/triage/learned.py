"""A learned second reader: naive Bayes over character n-grams.

The lexicon says what a category is by the words a city chose; this model
learns from labelled appeals how citizens actually put it. It is trained when
the triager is built (a fraction of a second per thousand examples), so it
follows whatever labelled data and jurisdiction are in force, and it needs no
library beyond the standard one. One model reads the category, another the
appeal type; both are the same class trained on different labels.

Binary features (an n-gram counts once per appeal) and a small smoothing
constant suit short texts and few examples per label. Raw naive Bayes
posteriors grow more extreme with every n-gram, so a long appeal would look
surer than a short one: the model's opinion is instead its average evidence
per known n-gram, sharpened by one constant. Both constants, and the n-gram
length, were chosen by leave-one-file-out runs over the labelled files
(`shaobao triage cross`): longer n-grams and word segmentation did not help.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

# Punctuation and the filler that masks place names never belong to an n-gram.
_BREAKS = frozenset('，。；！？、：,.;!?:"“”‘’（）()【】 \n\t＿')


@dataclass(frozen=True)
class LabelledText:
    """One training example: an appeal's text, its labels (urgency when known), and who wrote it.

    `source` (the labelled file) keeps one author's wording together when the
    triager checks its own confidence on examples it did not learn from.
    """

    text: str
    category: str
    appeal_type: str | None = None
    source: str = ""
    urgency: str | None = None


# Character unigrams and bigrams: longer ones add little for Chinese and cost memory.
NGRAM_LONGEST = 2
# An n-gram seen with this many labels or more is kept as a dense row (see `NaiveBayes`).
DENSE_FROM = 4


@lru_cache(maxsize=64)
def ngrams(text: str, longest: int) -> frozenset[str]:
    """The distinct character n-grams (1..longest) that do not cross punctuation or masked places.

    Kept for the last few texts: one decision reads the same text with three models."""
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
    """The model's ranked labels with their probabilities, best first."""

    ranked: tuple[tuple[str, float], ...]

    @property
    def best(self) -> str | None:
        return self.ranked[0][0] if self.ranked else None

    @property
    def probability(self) -> float:
        return self.ranked[0][1] if self.ranked else 0.0

    def of(self, label: str) -> float:
        """The probability the model gives one label (0 when it does not know it)."""
        return next((p for code, p in self.ranked if code == label), 0.0)


NO_OPINION = Opinion(())


def weighed(
    candidates: Iterable[str],
    points: Mapping[str, float],
    model: Mapping[str, float],
    weight: float,
    unknown: float = 0.0,
    floor: float = 1e-300,
) -> dict[str, float]:
    """Per candidate label: `weight` × its lexicon points plus the log of the model's probability.

    A label the model does not know counts as `unknown`; no probability counts below `floor`.
    How the category and the appeal type both combine the two readers.
    """
    return {
        label: weight * points.get(label, 0.0) + math.log(max(model.get(label, unknown), floor))
        for label in candidates
    }


class NaiveBayes:
    """Multinomial naive Bayes on binary character n-grams, with sparse per-label weights.

    The score of a label is its log prior plus, for each known n-gram in the
    text, log P(n-gram | label). Most n-grams are seen with few labels, so each
    n-gram keeps only the labels it was seen with; the unseen share is folded
    into a per-label constant, and one decision costs a few thousand additions.
    """

    def __init__(
        self,
        labels: tuple[str, ...],
        base: tuple[float, ...],
        unseen: tuple[float, ...],
        seen: Mapping[str, Mapping[int, float]],
        longest: int,
    ) -> None:
        self._labels = labels
        self._base = base
        self._unseen = unseen
        # An n-gram seen with many labels (the common characters: few n-grams, most of the work)
        # keeps its gains as one dense row, so that adding up a text's rows is done column by
        # column in C (`zip`, `sum`); the rest stay sparse, a few pairs each.
        labels_n = range(len(labels))
        self._dense = {
            gram: tuple(gains.get(index, 0.0) for index in labels_n)
            for gram, gains in seen.items()
            if len(gains) >= DENSE_FROM
        }
        self._sparse = {gram: dict(gains) for gram, gains in seen.items() if len(gains) < DENSE_FROM}
        self._longest = longest

    @classmethod
    def train(
        cls, examples: Iterable[tuple[str, str]], alpha: float = 0.02, longest: int = NGRAM_LONGEST
    ) -> NaiveBayes:
        """Count n-grams per label over (text, label) pairs; `alpha` is the additive smoothing."""
        return cls.train_on_grams(
            ((ngrams(text, longest), label) for text, label in examples), alpha, longest
        )

    @classmethod
    def train_on_grams(
        cls, examples: Iterable[tuple[frozenset[str], str]], alpha: float = 0.02, longest: int = NGRAM_LONGEST
    ) -> NaiveBayes:
        """The same from each text's n-grams (`ngrams(text, longest)`), when they are already worked out.

        Calibrating the gate trains one model per held-out file over the same texts:
        their n-grams are worked out once, not once per model.
        """
        docs: Counter[str] = Counter()
        counts: dict[str, Counter[str]] = {}
        for grams, label in examples:
            docs[label] += 1
            counts.setdefault(label, Counter()).update(grams)
        labels = tuple(sorted(docs))
        vocabulary = {gram for counter in counts.values() for gram in counter}
        total = sum(docs.values())
        denominators = [math.log(sum(counts[c].values()) + alpha * len(vocabulary)) for c in labels]
        seen: dict[str, dict[int, float]] = {}
        for index, code in enumerate(labels):
            for gram, count in counts[code].items():
                # Stored as the gain over an unseen n-gram, so the unseen case costs nothing.
                seen.setdefault(gram, {})[index] = math.log((count + alpha) / alpha)
        base = tuple(math.log(docs[c] / total) for c in labels)
        unseen = tuple(math.log(alpha) - d for d in denominators)
        return cls(labels, base, unseen, seen, longest)

    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels

    def evidence(self, text: str) -> dict[str, float]:
        """Per label, its log score minus the best label's, averaged over the known n-grams (≤ 0)."""
        if not self._labels:
            return {}
        dense, sparse = self._dense, self._sparse
        grams = ngrams(text, self._longest)
        rows = list(filter(None, map(dense.get, grams)))
        few = list(filter(None, map(sparse.get, grams)))
        known = len(rows) + len(few)
        gained = list(map(sum, zip(*rows, strict=True))) if rows else [0.0] * len(self._labels)
        scores = [b + known * u + g for b, u, g in zip(self._base, self._unseen, gained, strict=True)]
        for gains in few:
            for index, gain in gains.items():
                scores[index] += gain
        top = max(scores)
        per_gram = max(1, known)
        return {label: (s - top) / per_gram for label, s in zip(self._labels, scores, strict=True)}

    def opinion(self, text: str, sharpness: float) -> Opinion:
        """Probabilities of the labels for this text, best first: softmax of `sharpness` × evidence."""
        evidence = self.evidence(text)
        weights = {label: math.exp(sharpness * gap) for label, gap in evidence.items()}
        norm = sum(weights.values())
        return Opinion(tuple(sorted(((k, w / norm) for k, w in weights.items()), key=lambda p: -p[1])))
