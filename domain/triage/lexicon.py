"""The triage lexicon: words, rules and place aliases kept as data.

A city tunes triage by editing its lexicon file, not the code. This module
only validates an already-parsed mapping (reading the file is the shell's job).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from domain.jurisdiction import Jurisdiction


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _weighted(value: object) -> object:
    """Accept `[词, 词]` (weight 1 each) as well as `{词: 权重}`."""
    if isinstance(value, list):
        return {str(word): 1.0 for word in value}
    return value


class Rule(_Frozen):
    """A combination of words: fires when every group has at least one of its words present.

    `none` words veto the rule, so a rule can say "停水 for two days, unless 已恢复".
    """

    groups: tuple[tuple[str, ...], ...]
    none: tuple[str, ...] = ()
    weight: float = 1.0
    note: str = ""
    # A decisive rule settles the category when it fires: an official taking money
    # from street vendors is a conduct complaint, however much the text says of vendors.
    decisive: bool = False

    @field_validator("groups", mode="before")
    @classmethod
    def _single_words_are_groups(cls, value: object) -> object:
        # `[[停水, 停电], 两天]` reads naturally; a bare word is a group of one.
        if isinstance(value, list):
            return [item if isinstance(item, list) else [item] for item in value]
        return value

    @model_validator(mode="after")
    def _has_words(self) -> Rule:
        if not self.groups or not all(self.groups):
            raise ValueError("a rule needs groups of words, none of them empty")
        return self


class Cues(_Frozen):
    """Weighted words and combination rules that point at one label."""

    words: dict[str, float] = Field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    facts_only: bool = False

    _words = field_validator("words", mode="before")(_weighted)


class CategoryCues(Cues):
    """A category's cues, and the appeal type citizens usually mean when they raise it."""

    usual_type: str | None = None
    # A gate: when set, the category scores nothing unless one of these words
    # occurs. Noise categories need a sound: a factory or a shop alone is not noise.
    requires: tuple[str, ...] = ()


class UrgencySigns(_Frozen):
    """Signs of danger now (emergency) and of risk or hardship (urgent)."""

    emergency: Cues = Field(default_factory=Cues)
    urgent: Cues = Field(default_factory=Cues)
    # People who cannot look after themselves: signs short of the line next to one of them
    # still raise the appeal to urgent, from caution (see `urgency.py`).
    vulnerable: tuple[str, ...] = ()


class InstantRules(_Frozen):
    """When the hotline answers on line (即办) instead of dispatching.

    `always_types` (praise) never ask a unit to act; `no_action_types` are
    instant when the caller says no action is needed; an `instant` category
    (policy consultation) is instant unless the text asks for action.
    """

    always_types: tuple[str, ...] = ("praise",)
    no_action_types: tuple[str, ...] = ("suggestion", "consult")
    no_action: Cues = Field(default_factory=Cues)
    asks_action: Cues = Field(default_factory=Cues)


class Thresholds(_Frozen):
    """Scores below which triage hands the appeal to a person (manual) with its suggestion."""

    category_min_score: float = 2.0
    # The auto-dispatch gate when the lexicon decides alone, and the lowest gate calibration may set.
    confidence_floor: float = 0.55
    urgency_min_score: float = 2.0
    transfer_min_score: float = 3.5
    type_min_score: float = 1.0
    action_min_score: float = 1.0
    # The learned model (see `verdict.py`, `gate.py`). A category scores `lexicon_weight` per
    # lexicon point plus the log of the model's probability, which is a softmax of the
    # model's average evidence per n-gram times `model_sharpness`. The gate is calibrated so
    # that held-out dispatches were routed right `auto_dispatch_precision` of the time.
    lexicon_weight: float = 1.0
    model_sharpness: float = 4.0
    auto_dispatch_precision: float = 0.96
    # The same for the appeal type, leaning `usual_type_bonus` towards the category's usual type.
    type_lexicon_weight: float = 1.0
    type_model_sharpness: float = 6.0
    usual_type_bonus: float = 1.0
    # A second problem read from a part of the text alone: the part's length and how sure its reading.
    second_part_min_length: int = 12
    second_reading_min: float = 0.8
    # Without a word that opens another matter, a second problem needs this many cue points.
    second_unmarked_min_score: float = 3.0
    # When unsure whether an appeal is a report (举报), it is taken for one, so its caller is
    # kept secret: from this weighed share on report, or this many report cue points.
    report_suspect_share: float = 0.4
    report_hint_min_score: float = 3.0
    # Labelled urgencies, when the examples carry them, train a model that may raise a normal
    # appeal to urgent (from caution) when it gives `urgency_model_raise` or more to urgent.
    urgency_model_sharpness: float = 4.0
    urgency_model_raise: float = 0.8
    # The weighed share on emergency categories from which a routine reading goes to a person,
    # urgent (low: a missed emergency costs far more than a manual ticket).
    model_emergency_suspect: float = 0.1
    # With danger signs in the text, this many lexicon points for an emergency line keep a
    # routine reading from a unit: a person checks it, urgent.
    emergency_hint_min_score: float = 2.0
    # The same when the category cleared the auto-dispatch gate: the appeal then goes to its
    # unit as urgent work unless the emergency words reach this many points.
    emergency_hint_sure_min_score: float = 2.0


class Lexicon(_Frozen):
    """The parsed lexicon: cues per category, appeal type and urgency, and place aliases."""

    version: str = "unversioned"
    categories: dict[str, CategoryCues]
    appeal_types: dict[str, Cues]
    default_appeal_type: str = "help"
    urgency: UrgencySigns = Field(default_factory=UrgencySigns)
    instant: InstantRules = Field(default_factory=InstantRules)
    hedges: tuple[str, ...] = ()
    hedge_suffixes: tuple[str, ...] = ()
    place_aliases: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    place_noise: tuple[str, ...] = ()
    text_noise: tuple[str, ...] = ()
    # Dialect words and mishearings of a transcript, read as their standard form (冇得 → 没有).
    spoken_forms: dict[str, str] = Field(default_factory=dict)
    place_stem_suffixes: tuple[str, ...] = ()
    place_stem_followers: tuple[str, ...] = ()
    place_kept_suffixes: tuple[str, ...] = ()
    thresholds: Thresholds = Field(default_factory=Thresholds)

    def check_against(self, jurisdiction: Jurisdiction) -> None:
        """Raise ValueError when the lexicon names categories or towns the jurisdiction lacks."""
        unknown = set(self.categories) - set(jurisdiction.category_by_code)
        if unknown:
            raise ValueError(f"lexicon names unknown categories {sorted(unknown)}")
        towns = set(self.place_aliases) - set(jurisdiction.town_by_code)
        if towns:
            raise ValueError(f"lexicon place_aliases name unknown towns {sorted(towns)}")
        types = {t.code for t in jurisdiction.appeal_types}
        named = {
            *self.appeal_types,
            self.default_appeal_type,
            *self.instant.always_types,
            *self.instant.no_action_types,
            *(c.usual_type for c in self.categories.values() if c.usual_type),
        }
        if not named <= types:
            raise ValueError(f"lexicon names unknown appeal types {sorted(named - types)}")


class LexiconError(ValueError):
    """The lexicon file is not valid; the message lists every problem."""


def parse_lexicon(data: object) -> Lexicon:
    """Validate a parsed lexicon mapping (from `yaml.safe_load`); raises `LexiconError`."""
    if not isinstance(data, dict):
        raise LexiconError("a lexicon file must hold a mapping at its top level")
    try:
        return Lexicon.model_validate(data)
    except ValidationError as error:
        raise LexiconError(f"invalid lexicon:\n{error}") from error
