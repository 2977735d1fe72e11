"""How a text sounds: for place names a speech recogniser wrote with the wrong characters.

A phone transcript writes what it heard: 白麻桥 for 白马桥, 东湖堂 for 东湖塘,
专塘村 for 砖塘村. Read aloud they are the same. Each character is reduced to its
syllable without tone (its first reading in pypinyin's table), and the sounds
Xiang and other southern speakers merge are folded together (zh/z, ch/c, sh/s,
n/l, f/h before u; -ing/-in, -eng/-en), so a name matches what a Changsha caller
said as well as what a Beijing one did. Characters without a reading (digits,
Latin letters) stand for themselves.
"""

from __future__ import annotations

import unicodedata
from functools import cache

from pypinyin.pinyin_dict import pinyin_dict

_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"))
_FINALS = (("ing", "in"), ("eng", "en"))


def _fold(reading: str) -> str:
    plain = "".join(c for c in unicodedata.normalize("NFD", reading) if not unicodedata.combining(c))
    for merged, kept in _INITIALS:
        if plain.startswith(merged):
            plain = kept + plain[len(merged) :]
            break
    if plain.startswith("fu"):
        plain = "hu" + plain[2:]
    for merged, kept in _FINALS:
        if plain.endswith(merged):
            return plain[: -len(merged)] + kept
    return plain


@cache
def syllable(char: str) -> str:
    """The character's folded toneless syllable, or the character itself when it has none."""
    readings = pinyin_dict.get(ord(char))
    return _fold(readings.split(",", 1)[0]) if readings else char


def sounds(text: str) -> tuple[str, ...]:
    """The syllable of every character of `text`, position for position."""
    return tuple(syllable(char) for char in text)
