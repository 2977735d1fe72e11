"""Is this worker ready: partitions assigned and its tables recovered? Read from Faust's state.

In faust-streaming 0.15.3: `app.rebalancing` is set when a rebalance starts and cleared by
the recovery service once the active tables are caught up (`on_rebalance_end`), which also
sets `app.tables.actives_ready`; `app.consumer.assignment()` holds the partitions of the
current generation, changelog partitions included (those are recovery's, not work).
"""

from __future__ import annotations

from dataclasses import dataclass

import faust


@dataclass(frozen=True, slots=True)
class WorkerReadiness:
    assigned_partitions: int  # partitions of source topics (changelogs left out)
    tables_recovered: bool
    rebalancing: bool

    @property
    def ready(self) -> bool:
        return self.assigned_partitions > 0 and self.tables_recovered and not self.rebalancing

    def as_dict(self) -> dict[str, object]:
        return {
            "ready": self.ready,
            "assigned_partitions": self.assigned_partitions,
            "tables_recovered": self.tables_recovered,
            "rebalancing": self.rebalancing,
        }


def worker_readiness(app: faust.App) -> WorkerReadiness:
    changelogs = app.tables.changelog_topics
    assigned = [tp for tp in app.consumer.assignment() if tp.topic not in changelogs]
    return WorkerReadiness(
        assigned_partitions=len(assigned),
        tables_recovered=bool(app.tables.actives_ready),
        rebalancing=bool(app.rebalancing),
    )
