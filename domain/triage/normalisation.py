"""Messy input read as plain written Chinese before any cue or model sees it.

Appeals arrive as phone transcripts ("嗯…那个那个，就是"), pasted WeChat chats
(timestamps, `[捂脸]`, emoji), traditional characters and Changsha dialect
("冇得水", "伢子"). Triage reads the normalised text for everything (cues,
place names, the learned models, which are trained on normalised examples
too), so a city's lexicon is written once, in standard simplified Chinese:

- traditional characters become simplified (a character table, `hanzi.py`);
- emoji, WeChat sticker codes and chat timestamps are dropped;
- interjections that only fill a pause (嗯, 呃) and stammered repeats
  ("那个那个") are dropped;
- the lexicon's `spoken_forms` (dialect words and common mishearings of a
  transcript, e.g. 冇得 → 没有, 么子 → 什么, 天燃气 → 天然气) are replaced,
  longest first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from domain.triage.hanzi import TO_SIMPLIFIED

# Pictographs, dingbats, flags, variation selectors and joiners: emoji carry mood, not facts.
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff\ufe0f\u200d\u2b50\u2b55\u203c\u2049]+"
)
# WeChat stickers typed as text: [捂脸] [微笑] [Facepalm].
_STICKER = re.compile(r"\[(?:[\u4e00-\u9fff]{1,4}|[A-Za-z]{2,12})\]")
# A chat line's header: a line holding only an optional sender, an optional date and a clock
# time ("张姐 10:32", "2026/11/21 15:11"), or a bracketed time opening a line ("[21:08] 好臭").
# A time inside a sentence ("晚上 10:30 还在施工") stays: it may be what the appeal is about.
_DATE = r"(?:\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?[ \t]*)?"
_TIME = r"\d{1,2}[:：]\d{2}(?:[:：]\d{2})?"
_CHAT_STAMP = re.compile(
    rf"(?m)^[ \t]*(?:[^\s\d，。:：]{{1,12}}[ \t]+)?{_DATE}{_TIME}[ \t]*(?:\n|$)"
    rf"|^[ \t]*\[{_DATE}{_TIME}\][ \t]*"
)
# Sounds that only fill a pause; 嗯 and 呃 are never anything else.
_PAUSE = re.compile(r"[嗯呃]+[，,。…~～、 ]*")
# Interjections standing alone between pauses ("喂，", "啊，"), not inside words (金额, 啊呀).
_ALONE = re.compile(r"(?:^|(?<=[，,。…！!？?\s]))(?:喂|啊|哦|唉|额|那个|就是说|然后呢)+[，,…~～ ]+")
# A word stammered twice or more ("那个那个那个", "就是就是").
_STAMMER = re.compile(r"(那个|这个|就是|然后|我我|他他)\1+")
_ELLIPSIS = re.compile(r"[…]+|\.{3,}")


class TextNormaliser:
    """Normalises appeal text (see the module docstring); build once per lexicon."""

    def __init__(self, spoken_forms: Mapping[str, str] | None = None) -> None:
        # Longest first, so 冇得 is read before 冇.
        self._forms = tuple(sorted((spoken_forms or {}).items(), key=lambda item: (-len(item[0]), item[0])))
        self._firsts = frozenset(form[0] for form, _ in self._forms)

    def normalise(self, text: str) -> str:
        """The text in plain simplified Chinese, without fillers, emoji or chat stamps."""
        text = text.translate(TO_SIMPLIFIED)
        text = _EMOJI.sub(" ", text)
        text = _STICKER.sub(" ", text)
        if ":" in text or "：" in text:
            text = _CHAT_STAMP.sub("", text)
        text = _PAUSE.sub("", text)
        text = _STAMMER.sub(r"\1", text)
        text = _ALONE.sub("", text)
        text = _ELLIPSIS.sub("，", text)
        if self._firsts.intersection(text):
            for form, standard in self._forms:
                if form in text:
                    text = text.replace(form, standard)
        return text.strip()

    def changes(self, word: str) -> bool:
        """Whether normalising would change a lexicon word (such a word could never match)."""
        return self.normalise(word) != word
