"""Hot reload of the reference data: the alerts that say a new jurisdiction was put in force or refused."""

from __future__ import annotations

from datetime import datetime

from schemas.alerts import Alert


def reference_applied_alert(position: str, code: str, version: str, previous: str, now: datetime) -> Alert:
    """A published jurisdiction is now in force; `position` (`topic:partition:offset`) makes the id."""
    return Alert(
        alert_id=f"reference:{position}",
        kind="reference_applied",
        severity="info",
        message=f"新的辖区配置已生效：{code} 版本 {version}（原版本 {previous}）",
        raised_at=now,
        details={"position": position, "jurisdiction": code, "version": version, "previous": previous},
    )


def reference_rejected_alert(position: str, reason: str, kept: str, now: datetime) -> Alert:
    """A published jurisdiction could not be put in force: the one in force (`kept`) stays."""
    return Alert(
        alert_id=f"reference:{position}",
        kind="reference_rejected",
        severity="critical",
        message=f"发布的辖区配置无效，已拒绝，继续使用版本 {kept}：{reason[:500]}",
        raised_at=now,
        details={"position": position, "kept_version": kept, "reason": reason[:2000]},
    )
