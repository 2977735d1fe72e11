"""Topic names of the wire contract, with the deployment's prefix."""

from __future__ import annotations

from dataclasses import dataclass

# The Faust tables of the app; their changelog topics are created with the contract's topics.
TABLES = ("intake_seen", "tickets", "order_views", "cluster_tracks", "cluster_index")


@dataclass(frozen=True)
class TopicNames:
    prefix: str = ""

    @property
    def intake(self) -> str:
        return f"{self.prefix}appeals.intake"

    @property
    def rejected(self) -> str:
        return f"{self.prefix}appeals.rejected"

    @property
    def commands(self) -> str:
        return f"{self.prefix}tickets.commands"

    @property
    def events(self) -> str:
        return f"{self.prefix}tickets.events"

    @property
    def dead_letters(self) -> str:
        """What an agent could not process, with the original bytes: kept forever."""
        return f"{self.prefix}dead.letters"

    @property
    def alerts(self) -> str:
        return f"{self.prefix}alerts"

    @property
    def reference(self) -> str:
        """The published jurisdictions (hot reload), compacted: the latest per jurisdiction."""
        return f"{self.prefix}config.reference"

    @property
    def clusters(self) -> str:
        """Internal: open tickets by `category:town`, for 多人反映 and 重复来电
        (domain.clusters.detection)."""
        return f"{self.prefix}tickets.clusters"

    def unit_orders(self, unit: str) -> str:
        return f"{self.prefix}units.{unit}.orders"

    def unit_actions(self, unit: str) -> str:
        return f"{self.prefix}units.{unit}.actions"

    @property
    def app_id(self) -> str:
        """The Faust app id: consumer group and changelog topic prefix."""
        return f"{self.prefix}shaobao"

    def changelog(self, table: str) -> str:
        """Faust's name for a table's changelog topic."""
        return f"{self.app_id}-{table}-changelog"

    @property
    def assignor_leader(self) -> str:
        """Faust's internal topic that elects the partition assignor's leader."""
        return f"{self.app_id}-__assignor-__leader"
