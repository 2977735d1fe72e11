"""Searching the knowledge base (知识库) with the words of an appeal: pure, no I/O.

Chinese has no spaces, so the index is of character n-grams (unigrams, bigrams, trigrams) and
of whole Latin/digit words, weighted BM25F-style over the entry's fields: the questions and the
title count three times the answer, the tags twice. Text is folded first (full-width to
half-width, traditional characters to simplified, case, punctuation and spaces dropped), so 「公積金」
finds 公积金. An entry whose tags or category names appear in the text, or one of whose questions
the text covers, ranks higher; an entry not valid today ranks below current ones of similar score.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from domain.triage.hanzi import TO_SIMPLIFIED
from schemas.kb import KbEntry, KbMatch

FIELD_WEIGHTS = {"title": 3.0, "questions": 3.0, "tags": 2.0, "answer": 1.0}
# A single character matches almost anything: it counts, but little; longer grams are more telling.
GRAM_WEIGHTS = {1: 0.15, 2: 1.0, 3: 1.3}
WORD_WEIGHT = 1.2  # a Latin or digit word, whole
K1, B = 1.2, 0.75
LABEL_BONUS = 0.25  # per tag or category name the text contains (up to MAX_LABELS)
MAX_LABELS = 3
QUESTION_BONUS = 0.6  # times the share of the best question's bigrams the text has
OUT_OF_DATE_FACTOR = 0.6  # an entry not valid today: shown, marked, below current ones
RERANKED = 30  # candidates whose questions are compared with the text
MAX_WHY_WORDS = 8
# Words everyone asks with: never offered as the reason an entry matched.
_ASKING = frozenset(
    "怎么 怎样 如何 什么 为何 为什么 哪里 哪些 哪个 多少 可以 能否 能不能 是否 是不是"
    " 请问 需要 一下 我们 你们 他们 这个 那个 这样 那样 没有 现在 已经 还是 的话"
    " 就是 有没 办理 问题 咨询 想问 如果 但是 因为 所以".split()
)
_ASKING_WORD = re.compile("|".join(sorted(_ASKING, key=len, reverse=True)))
# Characters that carry grammar, not meaning: never a reason on their own.
_PARTICLES = frozenset("的了吗呢啊吧呀么是在有我你他她它和与及或也都就还要")
_RUNS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+|[0-9a-z]+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def fold(text: str) -> str:
    """Full-width to half-width, traditional to simplified, lower case (NFKC does the first)."""
    return unicodedata.normalize("NFKC", text).translate(TO_SIMPLIFIED).lower()


def runs(text: str) -> list[str]:
    """The folded text's runs of Chinese characters and of Latin letters or digits."""
    return _RUNS.findall(fold(text))


def terms_of(text: str, max_n: int = 3) -> list[str]:
    """Every term of `text`: n-grams (1..max_n) of each Chinese run, each Latin/digit run whole.

    A run is cut at the words everyone asks with first, so no gram straddles one: 「要带什么材料」
    gives 要带 and 材料, not 带什 and 么材, which would match every entry asked the same way.
    """
    found: list[str] = []
    for run in runs(text):
        if _HAN.match(run) is None:
            found.append(run)
            continue
        for piece in _ASKING_WORD.split(run):
            for n in range(1, max_n + 1):
                found.extend(piece[i : i + n] for i in range(len(piece) - n + 1))
    return found


def _term_weight(term: str) -> float:
    if _HAN.match(term) is None:
        return WORD_WEIGHT
    return GRAM_WEIGHTS[len(term)]


@dataclass(frozen=True)
class _Doc:
    entry: KbEntry
    text: str  # every field, folded, runs joined by a separator no run holds
    terms: frozenset[str]
    questions: tuple[tuple[str, frozenset[str]], ...]  # each question and its bigrams
    labels: tuple[str, ...]  # folded tags and category names


def _bigrams(text: str) -> frozenset[str]:
    """The text's bigrams and words, less the words everyone asks with."""
    return frozenset(
        t for t in terms_of(text, 2) if (len(t) == 2 or _HAN.match(t) is None) and t not in _ASKING
    )


class KbSearchIndex:
    """An index of knowledge-base entries, built once; `search` is read-only and thread-safe."""

    def __init__(self, entries: Iterable[KbEntry], category_names: Mapping[str, str] | None = None) -> None:
        names = category_names or {}
        fields = [_fields(entry) for entry in entries]
        self._docs = tuple(_doc(entry, names) for entry, _ in fields)
        self._postings = _postings([counts for _, counts in fields])

    def __len__(self) -> int:
        return len(self._docs)

    def search(self, text: str, limit: int = 5, *, today: date) -> tuple[KbMatch, ...]:
        """The entries best matching `text`, best first, each with its score and why (in Chinese).

        Empty or punctuation-only text, or text sharing no word with any entry, finds nothing.
        """
        query = {t for t in terms_of(text) if t not in _ASKING and t not in _PARTICLES}
        if not query or limit < 1:
            return ()
        has_longer = any(len(t) > 1 or _HAN.match(t) is None for t in query)
        scores: dict[int, float] = {}
        if has_longer:  # single characters then add little but time: the longer terms decide
            query = {t for t in query if len(t) > 1 or _HAN.match(t) is None}
        for term in query:
            for doc, weight in self._postings.get(term, ()):
                scores[doc] = scores.get(doc, 0.0) + weight
        folded = "\n".join(runs(text))
        pairs = _bigrams(text)
        ranked: list[tuple[float, str, int, str]] = []
        for doc in sorted(scores, key=lambda d: -scores[d])[: max(RERANKED, limit)]:
            ranked.append(self._rescored(doc, scores[doc], folded, pairs, today))
        ranked.sort(key=lambda found: (-found[0], found[1]))
        matches: list[KbMatch] = []
        for score, _, doc, best in ranked:
            # Shared only by the words everyone asks with (请问, 怎么办): no reason to show it.
            if (found := self._match(doc, score, text, best, today)) is not None:
                matches.append(found)
                if len(matches) == limit:
                    break
        return tuple(matches)

    def _rescored(
        self, index: int, score: float, folded: str, pairs: frozenset[str], today: date
    ) -> tuple[float, str, int, str]:
        doc = self._docs[index]
        labels = min(MAX_LABELS, sum(1 for label in doc.labels if label in folded))
        best, coverage = "", 0.0
        for question, grams in doc.questions:
            share = len(grams & pairs) / len(grams) if grams else 0.0
            if share > coverage:
                best, coverage = question, share
        score *= (1 + LABEL_BONUS * labels) * (1 + QUESTION_BONUS * coverage)
        if not doc.entry.valid_on(today):
            score *= OUT_OF_DATE_FACTOR
        return score, doc.entry.entry_id, index, best

    def _match(self, index: int, score: float, text: str, best: str, today: date) -> KbMatch | None:
        doc = self._docs[index]
        words = matched_words(text, doc.text, doc.terms)
        if not words:
            return None
        why = ["命中：" + "、".join(words)]
        if best:
            why.append(f"最接近的问题：{best}")
        # Built from an entry already validated, of values made here: no need to validate again.
        return KbMatch.model_construct(
            entry=doc.entry, score=round(score, 3), why=tuple(why), current=doc.entry.valid_on(today)
        )


def matched_words(text: str, doc_text: str, doc_terms: frozenset[str]) -> tuple[str, ...]:
    """The longest pieces of `text` (two characters or more) the entry holds, in the text's
    order, without the words everyone asks with: what a person reads as "why this entry"."""
    words: dict[str, None] = {}
    for run in runs(text):
        if _HAN.match(run) is None:
            if run in doc_terms:
                words[run] = None
            continue
        i = 0
        while i < len(run) - 1:
            if run[i : i + 2] not in doc_terms:
                i += 1
                continue
            j = i + 2
            while j < len(run) and run[i : j + 1] in doc_text:
                j += 1
            word = _trimmed(run[i:j])
            if len(word) > 1:
                words[word] = None
            i = j
    return tuple(words)[:MAX_WHY_WORDS]


def _trimmed(word: str) -> str:
    """`word` without the asking words and particles at its ends: 怎么提取了 → 提取."""
    while word[:2] in _ASKING or word[-2:] in _ASKING or word[-1:] in _PARTICLES:
        word = word[2:] if word[:2] in _ASKING else word[:-2] if word[-2:] in _ASKING else word[:-1]
    return word


def _fields(entry: KbEntry) -> tuple[KbEntry, dict[str, Counter[str]]]:
    texts = {
        "title": [entry.title],
        "questions": list(entry.questions),
        "tags": list(entry.tags),
        "answer": [entry.answer],
    }
    return entry, {
        name: Counter(t for part in parts for t in terms_of(part)) for name, parts in texts.items()
    }


def _doc(entry: KbEntry, category_names: Mapping[str, str]) -> _Doc:
    parts = [entry.title, *entry.questions, *entry.tags, entry.answer]
    text = "\n".join(run for part in parts for run in runs(part))
    named = [category_names[c] for c in entry.categories if c in category_names]
    labels = tuple(dict.fromkeys(f for label in (*entry.tags, *named) if len(f := "".join(runs(label))) > 1))
    return _Doc(
        entry=entry,
        text=text,
        terms=frozenset(t for part in parts for t in terms_of(part)),
        questions=tuple((question, _bigrams(question)) for question in entry.questions),
        labels=labels,
    )


def _postings(docs: list[dict[str, Counter[str]]]) -> dict[str, list[tuple[int, float]]]:
    """term → (document, its weight for that term): BM25F, the fields' frequencies combined
    before saturation, each field normalised by its own average length."""
    count = len(docs)
    average = {
        name: max(1.0, sum(sum(d[name].values()) for d in docs) / count) if count else 1.0
        for name in FIELD_WEIGHTS
    }
    frequency: Counter[str] = Counter(term for d in docs for term in {t for c in d.values() for t in c})
    postings: dict[str, list[tuple[int, float]]] = {}
    for index, fields in enumerate(docs):
        combined: dict[str, float] = {}
        for name, counts in fields.items():
            norm = 1 - B + B * sum(counts.values()) / average[name]
            for term, tf in counts.items():
                combined[term] = combined.get(term, 0.0) + FIELD_WEIGHTS[name] * tf / norm
        for term, weighted in combined.items():
            df = frequency[term]
            idf = math.log(1 + (count - df + 0.5) / (df + 0.5))
            weight = _term_weight(term) * idf * weighted * (K1 + 1) / (K1 + weighted)
            postings.setdefault(term, []).append((index, weight))
    return postings


__all__ = ["KbSearchIndex", "fold", "matched_words", "runs", "terms_of"]
