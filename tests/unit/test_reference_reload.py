"""Hot reload without a broker: versions, validation of a published reference, the holder's swap."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from agents.reference import ReferenceHolder, check_units
from domain.jurisdiction import Jurisdiction
from infra.reference import (
    BuiltReference,
    ReferenceInvalid,
    build_reference,
    decode_reference,
    read_reference,
)
from schemas.appeal import Appeal
from schemas.reference import ReferencePublished
from shaobao import reference_cli
from streams.kafka_access import KafkaAccess
from streams.settings import DEFAULT_JURISDICTION, Settings

LEXICON = DEFAULT_JURISDICTION.with_name("sample-county.lexicon.yaml")
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
SEWER = Appeal(
    channel="phone",
    source_id="r-1",
    received_at=NOW,
    text="白马桥街道凤凰城小区门口下水道堵塞，污水外溢到路面，臭味很大，请相关部门疏通。",
)


def shipped() -> ReferencePublished:
    return read_reference(DEFAULT_JURISDICTION, LEXICON, NOW)


def edited(jurisdiction: object = None, lexicon: object = None) -> ReferencePublished:
    """The shipped reference with one file replaced by this YAML data (or text)."""
    base = shipped()

    def text(value: object, default: str) -> str:
        if value is None:
            return default
        return value if isinstance(value, str) else yaml.safe_dump(value, allow_unicode=True)

    return base.model_copy(
        update={
            "jurisdiction_yaml": text(jurisdiction, base.jurisdiction_yaml),
            "lexicon_yaml": text(lexicon, base.lexicon_yaml),
        }
    )


def shipped_data() -> dict[str, object]:
    data = yaml.safe_load(DEFAULT_JURISDICTION.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_version_names_both_files_and_each_decision_records_it(tmp_path: Path) -> None:
    first = shipped()
    lexicon = tmp_path / "lexicon.yaml"
    lexicon.write_text(LEXICON.read_text(encoding="utf-8") + "\n# a comment is a change too\n", "utf-8")
    assert read_reference(DEFAULT_JURISDICTION, LEXICON, NOW).version == first.version
    assert read_reference(DEFAULT_JURISDICTION, lexicon, NOW).version != first.version
    built = build_reference(first)
    assert (built.version, built.jurisdiction.version) == (first.version, first.version)
    assert built.router.decide(SEWER).jurisdiction_version == first.version


def test_a_published_reference_round_trips_through_its_record() -> None:
    record = shipped().model_dump_json().encode()
    built = decode_reference(record)
    decision = built.router.decide(SEWER)
    assert (decision.disposition, decision.lead, decision.co) == ("dispatch", "zjj", ("baimaqiao",))


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        (lambda: edited(jurisdiction="towns: [unclosed"), "the jurisdiction file is not valid YAML"),
        (lambda: edited(lexicon=["a", "list"]), "a lexicon file must hold a mapping"),
        (
            lambda: edited(
                jurisdiction={
                    **shipped_data(),
                    "categories": [
                        {**c, "lead": "nobody"} if c["code"] == "drainage.sewer" else c
                        for c in shipped_data()["categories"]  # type: ignore[attr-defined]
                    ],
                }
            ),
            "category drainage.sewer routes to unknown units ['nobody']",
        ),
        (
            lambda: edited(
                jurisdiction={
                    **shipped_data(),
                    "categories": [
                        c
                        for c in shipped_data()["categories"]  # type: ignore[attr-defined]
                        if c["code"] != "drainage.sewer"
                    ],
                }
            ),
            "lexicon names unknown categories ['drainage.sewer']",
        ),
        (lambda: shipped().model_copy(update={"jurisdiction_code": "other"}), "published as 'other'"),
    ],
    ids=[
        "broken_yaml",
        "lexicon_not_a_mapping",
        "unknown_unit",
        "lexicon_ahead_of_jurisdiction",
        "wrong_code",
    ],
)
def test_an_invalid_reference_is_refused_with_the_reason(reference: object, message: str) -> None:
    with pytest.raises(ReferenceInvalid) as refused:
        build_reference(reference())  # type: ignore[operator]
    assert message in str(refused.value)


def test_a_record_that_is_not_a_reference_is_refused() -> None:
    with pytest.raises(ReferenceInvalid, match="not a ReferencePublished record"):
        decode_reference(b"{}")


@dataclass(frozen=True)
class Fixed:
    jurisdiction: Jurisdiction
    router: object
    version: str


def test_the_holder_swaps_the_whole_reference_at_once() -> None:
    old = build_reference(shipped())
    data = shipped_data()
    data["categories"] = [
        {**c, "lead": "cgj"} if c["code"] == "drainage.sewer" else c
        for c in data["categories"]  # type: ignore[attr-defined]
    ]
    new = build_reference(edited(jurisdiction=data))
    holder = ReferenceHolder(old)
    assert holder.router.decide(SEWER).lead == "zjj"
    holder.swap(new)
    decision = holder.router.decide(SEWER)
    assert (decision.lead, decision.jurisdiction_version) == ("cgj", new.version)
    assert holder.jurisdiction is new.jurisdiction and holder.current is new


def test_a_reference_with_units_the_deployment_has_no_topics_for_is_refused() -> None:
    built: BuiltReference = build_reference(shipped())
    check_units(built, built.jurisdiction.unit_codes)
    with pytest.raises(ValueError, match=r"units \['zjj'\] have no topics in this deployment"):
        check_units(built, [u for u in built.jurisdiction.unit_codes if u != "zjj"])


def test_the_publish_command_refuses_an_invalid_file_before_sending_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("jurisdiction: {code: sample-county}\ntowns: []\n", encoding="utf-8")
    # An unreachable broker: had it tried to publish, it would hang or fail differently.
    settings = Settings(kafka=KafkaAccess("127.0.0.1:1"))
    code = reference_cli.run(["publish", str(broken), "--lexicon", str(LEXICON)], settings)
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("shaobao reference: invalid reference, nothing published: invalid jurisdiction:")
    assert "6 validation errors for Jurisdiction\njurisdiction.name\n  Field required" in err
    assert "\ntime_limits\n  Field required" in err
