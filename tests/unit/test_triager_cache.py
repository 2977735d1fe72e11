"""The trained triager kept on disk: reused for the same inputs, never across a change."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from domain.triage import LabelledText, Triager
from infra.reference import build_reference, read_reference
from infra.triager_cache import TriagerCache, cache_key
from schemas.appeal import Appeal
from streams.settings import DEFAULT_JURISDICTION

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
EXAMPLES = (
    LabelledText("小区门口下水道堵塞，污水外溢到路面", "drainage.sewer", "help", "a"),
    LabelledText("老板拖欠三个月工资不发", "labor.wages", "help", "a"),
    LabelledText("楼上装修噪音每天晚上到十一点", "noise.social", "complaint", "b"),
)
SEWER = Appeal(
    channel="phone",
    source_id="c-1",
    received_at=NOW,
    text="白马桥街道凤凰城小区门口下水道堵塞，污水外溢到路面，臭味很大。",
)


def test_the_second_build_of_the_same_inputs_is_read_not_trained(tmp_path: Path) -> None:
    published = read_reference(DEFAULT_JURISDICTION, None, NOW)
    cache = TriagerCache(tmp_path / "triager")
    first = build_reference(published, EXAMPLES, cache)
    files = sorted(p.name for p in (tmp_path / "triager").iterdir())
    assert files == [f"triager-{cache_key(published.version, EXAMPLES)}.pickle"]

    trained: list[int] = []

    def train() -> Triager:
        trained.append(1)
        return first.router

    again = cache.get_or_train(published.version, EXAMPLES, train)
    assert trained == []
    assert again is not first.router
    assert again.decide(SEWER) == first.router.decide(SEWER)


def test_a_change_to_examples_or_reference_is_a_new_key() -> None:
    base = cache_key("v1", EXAMPLES)
    relabelled = (EXAMPLES[0], EXAMPLES[1], LabelledText(EXAMPLES[2].text, "noise.social", "help", "b"))
    assert (
        len({base, cache_key("v2", EXAMPLES), cache_key("v1", EXAMPLES[:2]), cache_key("v1", relabelled)})
        == 4
    )
    assert cache_key("v1", EXAMPLES) == base


def test_a_damaged_file_is_trained_again_and_replaced(tmp_path: Path) -> None:
    published = read_reference(DEFAULT_JURISDICTION, None, NOW)
    cache = TriagerCache(tmp_path)
    path = cache.path_for(cache_key(published.version, EXAMPLES))
    path.write_bytes(b"not a pickle")
    built = build_reference(published, EXAMPLES, cache)
    assert built.router.decide(SEWER).category == "drainage.sewer"
    assert path.read_bytes()[:1] == b"\x80"  # a pickle now


def test_a_directory_that_cannot_be_written_still_gives_a_triager(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache = TriagerCache(blocker / "triager")  # a directory under a file: never creatable
    published = read_reference(DEFAULT_JURISDICTION, None, NOW)
    built = build_reference(published, EXAMPLES, cache)
    assert built.router.decide(SEWER).category == "drainage.sewer"
    assert not (blocker / "triager").exists()
