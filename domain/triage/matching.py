"""Scoring text against weighted cue words and rules, with hedges and negations.

Chinese has no spaces, so cues are matched as substrings. Each text is scanned
once for every word the lexicon knows (`Vocabulary.scan`); each label then
scores by set intersection, which keeps one decision well under a millisecond.

A cue inside a hedged clause ("担心起火", "暂无人受伤") is a worry or a denial,
not a fact; cues marked `facts_only` ignore such occurrences.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from domain.triage.lexicon import Cues

# Characters that end a clause: a hedge before them does not reach past them.
_CLAUSE_END = frozenset("，。；！？,.;!?\n：:、")
_HEDGE_WINDOW = 8
# `拿*刀`: a cue with a gap matches its parts in order, at most this far apart
# and within one clause ("拿着一把菜刀" but not across a full stop).
GAP = "*"
_GAP_MAX = 6
_GAP_FILL = f"[^{re.escape(''.join(sorted(_CLAUSE_END)))}]{{0,{_GAP_MAX}}}"


def _gap_pattern(word: str) -> re.Pattern[str]:
    return re.compile(_GAP_FILL.join(re.escape(part) for part in word.split(GAP)))


def blank(text: str, phrases: Sequence[str]) -> str:
    """The text with each phrase replaced by filler of the same length (positions stay valid)."""
    for phrase in phrases:
        if phrase in text:
            text = text.replace(phrase, "＿" * len(phrase))
    return text


@dataclass(frozen=True)
class Score:
    """A label's score and the words and rules that earned it (for the explanation)."""

    label: str
    value: float
    hits: tuple[str, ...]
    decisive: bool = False


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

    def occurs_as_fact(self, text: str, spans: Iterable[tuple[int, int]]) -> bool:
        """True when at least one occurrence (start, end) is not hedged."""
        return any(not self.is_hedged(text, start, end) for start, end in spans)


def _spans(text: str, word: str) -> Iterator[tuple[int, int]]:
    start = text.find(word)
    while start != -1:
        yield start, start + len(word)
        start = text.find(word, start + 1)


@dataclass
class Scan:
    """One text and the lexicon words present in it; facts are worked out lazily, once per word."""

    text: str
    present: frozenset[str]
    hedges: HedgeDetector
    patterns: dict[str, re.Pattern[str]] = field(default_factory=dict)
    _facts: dict[str, bool] = field(default_factory=dict)

    def facts(self, words: Iterable[str]) -> set[str]:
        """The words that occur at least once outside a hedged clause."""
        result: set[str] = set()
        for word in words:
            if word not in self._facts:
                pattern = self.patterns.get(word)
                spans = (
                    (m.span() for m in pattern.finditer(self.text)) if pattern else _spans(self.text, word)
                )
                self._facts[word] = self.hedges.occurs_as_fact(self.text, spans)
            if self._facts[word]:
                result.add(word)
        return result


class Vocabulary:
    """Every word the lexicon knows, indexed by first character for one pass over a text."""

    def __init__(self, words: Iterable[str], hedges: HedgeDetector) -> None:
        self._by_first: dict[str, tuple[str, ...]] = {}
        self._patterns: dict[str, re.Pattern[str]] = {}
        for word in sorted(set(w for w in words if w)):
            if GAP in word:
                self._patterns[word] = _gap_pattern(word)
            else:
                self._by_first[word[0]] = (*self._by_first.get(word[0], ()), word)
        self._hedges = hedges

    def scan(self, text: str) -> Scan:
        """The words (and gap patterns) present anywhere in `text`."""
        present = {
            word
            for char in set(text) & self._by_first.keys()
            for word in self._by_first[char]
            if word in text
        }
        present.update(word for word, pattern in self._patterns.items() if pattern.search(text))
        return Scan(text, frozenset(present), self._hedges, self._patterns)


class CueMatcher:
    """Scores a scanned text against one label's cues."""

    def __init__(self, label: str, cues: Cues) -> None:
        self.label = label
        self._cues = cues
        self._words = frozenset(cues.words)
        # Each rule's groups and vetoes as sets, built once: `score` runs for every label on every text.
        self._rules = tuple(
            (rule, tuple(frozenset(group) for group in rule.groups), frozenset(rule.none))
            for rule in cues.rules
        )
        # Every word that can earn points: a text with none of them scores 0 without more work
        # (most labels, for most texts).
        self._earning = self._words.union(*(word for _, groups, _ in self._rules for word in groups))

    def words(self) -> set[str]:
        """Every word this matcher may look for (for the shared vocabulary)."""
        found = set(self._words)
        for rule in self._cues.rules:
            found.update(*rule.groups, rule.none)
        return found

    def _found(self, scan: Scan, words: frozenset[str] | set[str]) -> set[str]:
        hits = set(words & scan.present)
        return scan.facts(hits) if self._cues.facts_only else hits

    def _groups_found(self, scan: Scan, groups: tuple[frozenset[str], ...]) -> list[list[str]]:
        """The words found for each group, or [] as soon as one group has none."""
        found: list[list[str]] = []
        for group in groups:
            hits = self._found(scan, group)
            if not hits:
                return []
            found.append(sorted(hits))
        return found

    def score(self, scan: Scan) -> Score:
        """Sum of the weights of the words present (each once) and of the rules that fire.

        A word inside a longer word already counted does not count again, so
        `夜间施工` and `施工` are not both paid for one phrase.
        """
        if self._earning.isdisjoint(scan.present):
            return Score(self.label, 0.0, ())
        total = 0.0
        decisive = False
        hits: list[str] = []
        for word in sorted(self._found(scan, self._words), key=lambda w: (-len(w), w)):
            if not any(word in longer for longer in hits):
                total += self._cues.words[word]
                hits.append(word)
        for rule, groups, none in self._rules:
            found = self._groups_found(scan, groups)
            if found and not none & scan.present:
                total += rule.weight
                decisive = decisive or rule.decisive
                hits.append(rule.note or "+".join(words[0] for words in found))
        return Score(self.label, total, tuple(hits), decisive)
