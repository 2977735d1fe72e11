"""Scoring text against weighted cue words and rules, with hedges and negations.

Chinese has no spaces, so cues are matched as substrings. A cue inside a
hedged clause ("担心起火", "暂无人受伤") is a worry or a denial, not a fact;
cues marked `facts_only` ignore such occurrences.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.triage.lexicon import Cues

# Characters that end a clause: a hedge before them does not reach past them.
_CLAUSE_END = frozenset("，。；！？,.;!?\n：:、")
_HEDGE_WINDOW = 8


@dataclass(frozen=True)
class Score:
    """A label's score and the words and rules that earned it (for the explanation)."""

    label: str
    value: float
    hits: tuple[str, ...]


class HedgeDetector:
    """Tells whether an occurrence of a word sits in a hedged or negated clause."""

    def __init__(self, hedges: Sequence[str], suffixes: Sequence[str] = ()) -> None:
        self._hedges = tuple(hedges)
        # "火灾隐患": a hedge can also follow the word it qualifies.
        self._suffixes = tuple(suffixes)

    def is_hedged(self, text: str, start: int, end: int) -> bool:
        """True when a hedge word precedes `start` in its clause or a hedge suffix follows `end`."""
        begin = start
        while begin > 0 and start - begin < _HEDGE_WINDOW and text[begin - 1] not in _CLAUSE_END:
            begin -= 1
        window = text[begin:start]
        if any(hedge in window for hedge in self._hedges):
            return True
        return any(text.startswith(suffix, end) for suffix in self._suffixes)

    def occurs_as_fact(self, text: str, word: str) -> bool:
        """True when at least one occurrence of `word` is not hedged."""
        start = text.find(word)
        while start != -1:
            if not self.is_hedged(text, start, start + len(word)):
                return True
            start = text.find(word, start + 1)
        return False


class CueMatcher:
    """Scores one text against one label's cues."""

    def __init__(self, label: str, cues: Cues, hedges: HedgeDetector) -> None:
        self.label = label
        self._cues = cues
        self._hedges = hedges
        self._words = sorted(cues.words.items(), key=lambda item: -len(item[0]))

    def _present(self, text: str, word: str) -> bool:
        if self._cues.facts_only:
            return self._hedges.occurs_as_fact(text, word)
        return word in text

    def score(self, text: str) -> Score:
        """Sum of the weights of the words present (each once) and of the rules that fire.

        A word inside a longer word already counted does not count again, so
        `夜间施工` and `施工` are not both paid for one phrase.
        """
        total = 0.0
        hits: list[str] = []
        for word, weight in self._words:
            if self._present(text, word) and not any(word in longer for longer in hits):
                total += weight
                hits.append(word)
        for rule in self._cues.rules:
            found = [next((w for w in group if self._present(text, w)), None) for group in rule.groups]
            if all(found) and not any(w in text for w in rule.none):
                total += rule.weight
                hits.append(rule.note or "+".join(w for w in found if w))
        return Score(self.label, total, tuple(hits))
