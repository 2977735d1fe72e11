"""A table whose changelog replay never takes a key back to an older version.

The fault (the chaos run's forked ticket: two different version-4 events). Nothing fences a
worker that lost its partitions without knowing it. A worker stopped (SIGSTOP, a long pause)
with a batch in hand is given up by the group after its session; the new owner recovers the
table from the changelog, takes the batch's commands again and goes on (v3, then v4, its
commands committed). When the stopped worker runs again, its batch simply resumes: the
outputs are acknowledged, `Staged.write` puts its state (v3) in the table, and Faust sends
that to the changelog, *after* the new owner's v4: Faust's own rebalance waits for exactly
this batch to finish (`Consumer.wait_empty`), and no producer of it is fenced (no
transactions). The changelog then ends in v3 for that ticket, and whoever recovers the
partition next (Faust's recovery applies the records in log order, last one wins) holds v3
while v4 is on `tickets.events` and its command is committed: the next command makes another v4.

A ticket's state only ever moves forward (its `version` goes up by one per event, and a key
is never deleted), so a record older than what the key already holds can only be such a
late write: recovery, active or standby, here skips it. A record of the same version is
applied (the later of two copies of one step), as is anything whose version cannot be read.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

log = logging.getLogger(__name__)

VersionOf = Callable[[Any], int | None]


def json_version(value: Any) -> int | None:
    """The `version` field of a JSON object (our states' bytes), or None."""
    if not isinstance(value, bytes | bytearray | str):
        return None
    try:
        decoded = json.loads(value)
    except ValueError:
        return None
    version = decoded.get("version") if isinstance(decoded, dict) else None
    return version if isinstance(version, int) and not isinstance(version, bool) else None


def newest_only(
    events: Iterable[Any], held: Callable[[Any], Any], to_key: Callable[[Any], Any], version_of: VersionOf
) -> Iterator[Any]:
    """The changelog `events` (in log order) that do not take their key back to an older
    version than the table holds (`held(key)`) or than an earlier event of the batch gave it."""
    seen: dict[Any, int | None] = {}
    for event in events:
        raw = event.message.value
        key = to_key(event.key)
        if raw is None:  # a deletion: applied, the key holds nothing after it
            seen[key] = None
            yield event
            continue
        version = version_of(raw)
        current = seen[key] if key in seen else version_of(held(key))
        if version is not None and current is not None and version < current:
            message = event.message
            log.warning(
                "changelog %s:%s@%s: %s at version %d after version %d: a late write from a "
                "worker that had lost the partition; recovery keeps version %d",
                message.topic,
                message.partition,
                message.offset,
                key,
                version,
                current,
                current,
            )
            continue
        if version is not None:
            seen[key] = version
        yield event


T = TypeVar("T")


def keep_newest(table: T, version_of: VersionOf = json_version) -> T:
    """Make `table` (a Faust table) skip, as its changelog is replayed, any record older
    than what it holds for that key: Faust's recovery and standby updates both go through
    `apply_changelog_batch`. No change to the library: this one table instance only."""
    faust_table: Any = table
    apply = faust_table.apply_changelog_batch
    if getattr(apply, "keeps_newest", False):
        return table

    def held(key: Any) -> Any:
        try:
            return faust_table.data[key]
        except KeyError:
            return None

    def apply_newest(batch: Iterable[Any]) -> None:
        apply(list(newest_only(batch, held, faust_table._to_key, version_of)))  # noqa: SLF001

    apply_newest.keeps_newest = True  # type: ignore[attr-defined]
    faust_table.apply_changelog_batch = apply_newest
    return table
