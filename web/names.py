"""What people read for the codes of a ticket's status, in the report and at the desk."""

from __future__ import annotations

STATUS_NAMES = {
    "received": "已受理",
    "manual": "待人工派单",
    "dispatched": "待签收",
    "signed": "办理中",
    "returned": "退单待处理",
    "completed": "待回访",
    "dissatisfied": "回访不满意",
    "closed": "已销号",
    "instant": "即办",
    "transferred": "转办",
}

__all__ = ["STATUS_NAMES"]
