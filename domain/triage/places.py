"""Town resolution (属地): which town an appeal is about, and how we know.

Citizens name towns in full (白马桥街道), shortened (白马桥那边), by village or
community (金玉村老十三组), by landmark (湘核华府), or not at all. A place listed
as `ambiguous` in the jurisdiction names several towns and counts only when
the rest of the appeal tells them apart. A phone transcript may write a name
with homophones (白麻桥 for 白马桥): a name of three characters or more is also
found by how it sounds, when at least half its characters are written right.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from domain.jurisdiction import Jurisdiction
from domain.triage.geometry import Polygon, town_at
from domain.triage.sounds import sounds
from schemas.appeal import Location
from schemas.triage import TownResolution

# Suffixes citizens drop when they shorten a town name ("回龙铺那边").
_TOWN_SUFFIXES = ("街道办事处", "街道", "镇", "乡")
# How much each kind of mention weighs: a named town outranks a village, which
# outranks a landmark, because landmarks are what citizens pass on the way.
_KIND_WEIGHT: dict[TownResolution, float] = {"town_name": 3.0, "place": 2.5, "landmark": 2.0}
_ADDRESS_BONUS = 10.0
# Shorter names heard with a wrong character are too often other words (关山 → 关三).
_HEARD_MIN_LENGTH = 3


@dataclass(frozen=True)
class PlaceName:
    """One name in the index: the towns it may mean and what kind of name it is."""

    name: str
    towns: tuple[str, ...]
    kind: TownResolution
    # A shortened village name (金玉 for 金玉村) is a common word too, so it
    # counts only when a place word follows it (金玉老十三组, 金玉那边).
    needs_follower: bool = False


@dataclass(frozen=True)
class Mention:
    """A place name found in the address or the text, at a character position."""

    place: PlaceName
    start: int
    in_address: bool
    # The characters as written when the name was found by its sound ('' when written right).
    heard_as: str = ""

    @property
    def evidence(self) -> str:
        return f"{self.place.name}（文中作{self.heard_as}）" if self.heard_as else self.place.name


@dataclass(frozen=True)
class TownFinding:
    """The resolved town (or None), how it was resolved, and the names that decided it."""

    town: str | None
    resolution: TownResolution
    evidence: tuple[str, ...] = ()
    candidates: tuple[str, ...] = ()


def _short_names(name: str) -> list[str]:
    for suffix in _TOWN_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return [name[: -len(suffix)]]
    return []


def build_place_index(
    jurisdiction: Jurisdiction,
    aliases: Mapping[str, Sequence[str]],
    stem_suffixes: Sequence[str] = (),
) -> dict[str, PlaceName]:
    """Every name that points at a town: full and short town names, places, landmarks, aliases.

    A name that two towns share without being declared ambiguous is treated as
    ambiguous too: guessing between two towns would misroute silently.
    """
    towns_by_name: dict[str, dict[str, TownResolution]] = {}
    for name, town, kind in _names(jurisdiction, aliases):
        entry = towns_by_name.setdefault(name, {})
        # Keep the strongest kind a name has in a town (a town name beats a landmark).
        if town not in entry or _KIND_WEIGHT[kind] > _KIND_WEIGHT[entry[town]]:
            entry[town] = kind
    index = {
        name: PlaceName(name=name, towns=tuple(entry), kind=_strongest(entry.values()))
        for name, entry in towns_by_name.items()
    }
    return index | _stems(index, stem_suffixes)


def _names(
    jurisdiction: Jurisdiction, aliases: Mapping[str, Sequence[str]]
) -> Iterator[tuple[str, str, TownResolution]]:
    """(name, town, kind) of every name the jurisdiction and the aliases give a town, in their order."""
    for town in jurisdiction.towns:
        for name in (town.name, *_short_names(town.name)):
            yield name, town.code, "town_name"
        for place in town.places:
            yield place, town.code, "place"
        for landmark in town.landmarks:
            yield landmark, town.code, "landmark"
    for town_code, names in aliases.items():
        for name in names:
            yield name, town_code, "landmark"
    for ambiguous in jurisdiction.ambiguous:
        for town_code in ambiguous.towns:
            yield ambiguous.place, town_code, "place"


def _stems(index: Mapping[str, PlaceName], suffixes: Sequence[str]) -> dict[str, PlaceName]:
    stems: dict[str, PlaceName] = {}
    for place in index.values():
        if place.kind == "town_name":
            continue
        for suffix in suffixes:
            stem = place.name[: -len(suffix)]
            if place.name.endswith(suffix) and len(stem) >= 2 and stem not in index:
                known = stems.get(stem)
                towns = tuple(dict.fromkeys((*(known.towns if known else ()), *place.towns)))
                stems[stem] = PlaceName(stem, towns, place.kind, needs_follower=True)
    return stems


def _strongest(kinds: Iterable[TownResolution]) -> TownResolution:
    return max(kinds, key=lambda kind: _KIND_WEIGHT[kind])


class PlaceFinder:
    """Finds place names in text by longest match first, so 金洲大道 is not read as 金洲."""

    def __init__(
        self,
        index: Mapping[str, PlaceName],
        noise: Sequence[str] = (),
        followers: Sequence[str] = (),
        kept_suffixes: Sequence[str] = (),
    ) -> None:
        self._index = dict(index)
        self._followers = tuple(followers)
        # 花明楼景区 says "scenic area" as well as where: its head noun stays readable.
        self._kept = tuple(sorted(kept_suffixes, key=len, reverse=True))
        self._by_first: dict[str, list[str]] = {}
        self._by_sound: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for name in sorted(index, key=len, reverse=True):
            self._by_first.setdefault(name[0], []).append(name)
            if len(name) >= _HEARD_MIN_LENGTH:
                heard = sounds(name)
                self._by_sound.setdefault(heard[0], []).append((heard, name))
        # Phrases that contain a place name without meaning the place (e.g. 城郊结合部).
        self._noise = tuple(noise)

    def mentions(self, text: str, in_address: bool) -> list[Mention]:
        """All place mentions in `text`, left to right, never overlapping."""
        found: list[Mention] = []
        masked = self._mask_noise(text)
        heard: tuple[str, ...] | None = None  # the text's sounds, worked out when first needed
        i = 0
        while i < len(masked):
            match = next((n for n in self._by_first.get(masked[i], ()) if self._matches(masked, n, i)), None)
            if match is not None:
                found.append(Mention(self._index[match], i, in_address))
                i += len(match)
                continue
            heard = heard or sounds(masked)
            match = self._sounds_like(masked, heard, i)
            if match is None:
                i += 1
                continue
            found.append(Mention(self._index[match], i, in_address, heard_as=masked[i : i + len(match)]))
            i += len(match)
        return found

    def _sounds_like(self, text: str, heard: tuple[str, ...], at: int) -> str | None:
        """The longest name that sounds like the text at `at`, half its characters or more written right."""
        for sound, name in self._by_sound.get(heard[at], ()):
            end = at + len(name)
            if heard[at:end] != sound:
                continue
            same = sum(a == b for a, b in zip(text[at:end], name, strict=True))
            if 2 * same < len(name):
                continue
            place = self._index[name]
            if not place.needs_follower or any(text.startswith(f, end) for f in self._followers):
                return name
        return None

    def mask(self, text: str, mentions: Sequence[Mention]) -> str:
        """The text with place names blanked out, so 龙桥小学 or 白马桥市场 do not read as topics.

        A kept suffix (景区) stays: it tells what kind of place the problem is in.
        """
        chars = list(text)
        for mention in mentions:
            name = mention.place.name
            kept = next((len(k) for k in self._kept if name.endswith(k) and len(name) > len(k)), 0)
            end = mention.start + len(name) - kept
            chars[mention.start : end] = "＿" * (end - mention.start)
        return "".join(chars)

    def _matches(self, text: str, name: str, at: int) -> bool:
        if not text.startswith(name, at):
            return False
        if not self._index[name].needs_follower:
            return True
        return any(text.startswith(follower, at + len(name)) for follower in self._followers)

    def _mask_noise(self, text: str) -> str:
        for phrase in self._noise:
            if phrase in text:
                text = text.replace(phrase, "\0" * len(phrase))
        return text


def resolve_town(
    mentions: Sequence[Mention],
    location: Location | None,
    boundaries: Mapping[str, Sequence[Polygon]],
) -> TownFinding:
    """Pick the town from the mentions: address first, then text, then coordinates.

    Ambiguous names only narrow the choice: they resolve when another mention
    names one of their towns, and otherwise leave the town unknown.
    """
    certain = [m for m in mentions if len(m.place.towns) == 1]
    if certain:
        return _best_certain(certain, mentions)
    ambiguous = [m for m in mentions if len(m.place.towns) > 1]
    if location is not None:
        town = town_at(location.lat, location.lon, boundaries)
        if town is not None and (not ambiguous or any(town in m.place.towns for m in ambiguous)):
            return TownFinding(town, "coordinates", (f"坐标({location.lat:.5f},{location.lon:.5f})",))
    if ambiguous:
        shared = set.intersection(*(set(m.place.towns) for m in ambiguous))
        if len(shared) == 1:
            town = shared.pop()
            return TownFinding(town, "place", tuple(m.place.name for m in ambiguous))
        names = tuple(dict.fromkeys(m.place.name for m in ambiguous))
        candidates = tuple(dict.fromkeys(t for m in ambiguous for t in m.place.towns))
        return TownFinding(None, "ambiguous", names, candidates)
    return TownFinding(None, "none")


def _best_certain(certain: Sequence[Mention], mentions: Sequence[Mention]) -> TownFinding:
    scores: dict[str, float] = {}
    for rank, mention in enumerate(certain):
        town = mention.place.towns[0]
        # Earlier mentions weigh a little more: the problem's place usually comes first.
        weight = _KIND_WEIGHT[mention.place.kind] + (_ADDRESS_BONUS if mention.in_address else 0.0)
        scores[town] = scores.get(town, 0.0) + weight + 0.5 / (rank + 1)
    for mention in mentions:
        if len(mention.place.towns) > 1:
            # An ambiguous name agreeing with a named town is evidence for it.
            for town in mention.place.towns:
                if town in scores:
                    scores[town] += _KIND_WEIGHT["place"]
    town = max(scores, key=lambda code: scores[code])
    deciding = [m for m in mentions if town in m.place.towns]
    resolution: TownResolution = "address" if any(m.in_address for m in deciding) else deciding[0].place.kind
    evidence = tuple(dict.fromkeys(m.evidence for m in deciding))
    candidates = tuple(sorted(scores, key=lambda code: -scores[code]))
    return TownFinding(town, resolution, evidence, candidates)
