"""Triage (分拣): what an appeal is, where, how urgent, and who must handle it.

Pure domain code: the jurisdiction and the lexicon come in as parsed data, the
decision goes out as a `TriageDecision`. Nothing here reads files or clocks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain import public_names

if TYPE_CHECKING:
    from domain.triage.hanzi import TO_SIMPLIFIED
    from domain.triage.labels import label_problems
    from domain.triage.learned import LabelledText
    from domain.triage.lexicon import Lexicon, LexiconError, parse_lexicon
    from domain.triage.triager import Triager
    from domain.triage.urgency import URGENCY_RANK

__all__ = [
    "LabelledText",
    "Lexicon",
    "LexiconError",
    "TO_SIMPLIFIED",
    "Triager",
    "URGENCY_RANK",
    "label_problems",
    "parse_lexicon",
]

__getattr__ = public_names(
    __name__,
    {
        "LabelledText": "learned",
        "Lexicon": "lexicon",
        "LexiconError": "lexicon",
        "TO_SIMPLIFIED": "hanzi",
        "Triager": "triager",
        "URGENCY_RANK": "urgency",
        "label_problems": "labels",
        "parse_lexicon": "lexicon",
    },
)
