"""Ops: consumer lag as ops read it, and the ops alerts for lag and for the ticket store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain import public_names

if TYPE_CHECKING:
    from domain.ops.alerts import (
        LagThresholds,
        StoreErrorThresholds,
        lag_alerts,
        ops_alert_key,
        store_error_alert,
    )
    from domain.ops.lag import (
        PartitionLag,
        PartitionOffsets,
        next_offset,
        offset_sample,
        partition_lag,
        per_second,
        topic_lags,
    )
    from domain.ops.store_alerts import ALERT_KEY, store_back_alert, store_down_alert

__all__ = [
    "ALERT_KEY",
    "LagThresholds",
    "PartitionLag",
    "PartitionOffsets",
    "StoreErrorThresholds",
    "lag_alerts",
    "next_offset",
    "offset_sample",
    "ops_alert_key",
    "partition_lag",
    "per_second",
    "store_back_alert",
    "store_down_alert",
    "store_error_alert",
    "topic_lags",
]

__getattr__ = public_names(
    __name__,
    {
        "ALERT_KEY": "store_alerts",
        "LagThresholds": "alerts",
        "PartitionLag": "lag",
        "PartitionOffsets": "lag",
        "StoreErrorThresholds": "alerts",
        "lag_alerts": "alerts",
        "next_offset": "lag",
        "offset_sample": "lag",
        "ops_alert_key": "alerts",
        "partition_lag": "lag",
        "per_second": "lag",
        "store_back_alert": "store_alerts",
        "store_down_alert": "store_alerts",
        "store_error_alert": "alerts",
        "topic_lags": "lag",
    },
)
