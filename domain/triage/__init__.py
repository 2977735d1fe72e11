"""Triage (分拣): what an appeal is, where, how urgent, and who must handle it.

Pure domain code: the jurisdiction and the lexicon come in as parsed data, the
decision goes out as a `TriageDecision`. Nothing here reads files or clocks.
"""

from domain.triage.lexicon import Lexicon, LexiconError, parse_lexicon
from domain.triage.triager import Triager

__all__ = ["Lexicon", "LexiconError", "Triager", "parse_lexicon"]
