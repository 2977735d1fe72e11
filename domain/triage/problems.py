"""Two problems in one appeal: the second is flagged for a split, never dropped silently.

Callers often raise two things at once ("楼下广场舞吵到半夜。另外小区门口天天乱停车").
One ticket goes to one lead unit, so the second problem would be lost unless a
person splits it off. It is flagged when another category, routed elsewhere,
has enough lexicon evidence of its own in the whole text and holds a sentence
of its own: a sentence (or a part opened by 另外, 还有, 同时, …) where it
scores at least the line and more than the category taken. A word shared by
two readings of one problem (a shop's noise read as commerce and as noise)
does not make a second problem, because no sentence is the other's alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from domain.triage.classify import CategoryClassifier, CategoryGuess
from domain.triage.matching import Score, Vocabulary

# Where one matter ends and another may begin: sentence ends, and words that open another matter.
_PARTS = re.compile(
    r"[。！？；!?;\n]+|[，,]?(?:另外|此外|还有一件事|还有一个|还有一件|还有就是|另一个|另一件|顺便|再一个|再就是|同时反映|二是|第二"
    r"|还有|而且|再有|再说|加上|更麻烦的是|更气人的是)"
    # a chat message begins: a nickname and a colon, or a time stamp
    r"|\s[^\s：:]{1,8}[：:]|\s\d{1,2}[:：]\d{2}\s"
)


# Words that say another matter follows (or that there are two): a second problem without
# one of them must stand out more in the text to be flagged.
_ANOTHER = re.compile(
    r"另外|此外|还有|顺便|再一个|再就是|第二|二是|而且|同时|以及|也要|也请|一起|两个问题|两件事|两个事|更麻烦|更气人|再说"
)


def opens_another_matter(text: str) -> bool:
    """Whether the text says another matter follows ("另外", "还有", "顺便", "两件事"…)."""
    return _ANOTHER.search(text) is not None


def parts(text: str) -> list[str]:
    """The text cut where one matter may end and another begin (empty pieces dropped)."""
    return [piece.strip("，, ") for piece in _PARTS.split(text) if piece.strip("，, ")]


def second_problem(
    text: str,
    taken: str,
    guess: CategoryGuess,
    vocabulary: Vocabulary,
    classifier: CategoryClassifier,
    line: float,
    separate: Callable[[str], bool],
) -> Score | None:
    """The strongest other category with a part of the text of its own, or None.

    `separate(code)` says whether a category would be a ticket of its own beside
    `taken` (routed elsewhere, not an emergency line, not answered on line).
    """
    candidates = [s for s in guess.ranked if s.label != taken and s.value >= line and separate(s.label)]
    if not candidates:
        return None
    pieces = parts(text)
    if len(pieces) < 2:
        return None
    labels = {taken, *(c.label for c in candidates)}
    readings = [classifier.scores(vocabulary.scan(piece), labels) for piece in pieces]
    for candidate in candidates:
        if _holds_a_part(candidate.label, taken, readings, line):
            return candidate
    return None


def _holds_a_part(label: str, taken: str, readings: Iterable[Mapping[str, float]], line: float) -> bool:
    own = taken_own = False
    for scores in readings:
        mine, theirs = scores.get(label, 0.0), scores.get(taken, 0.0)
        own = own or (mine >= line and mine > theirs)
        taken_own = taken_own or theirs > mine
    return own and taken_own
