"""Reports from the store: the logs of the period's tickets read from PostgreSQL, folded by
`domain.reporting.report`, rendered by `web.reports.html` / `web.reports.files`."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import asyncpg

from domain.jurisdiction import Jurisdiction
from domain.reporting import TREND_DAYS, PeriodKind, RateWeights, Report, build_report, local_date, period_for
from domain.time_limits import WorkingCalendar
from infra.holidays import national_holidays
from infra.postgres.report_source import read_kb, read_logs


class StoreReports:
    """Builds a period's report from the store's event log, as of `now`."""

    def __init__(self, jurisdiction: Jurisdiction, weights: RateWeights | None = None) -> None:
        self.jurisdiction = jurisdiction
        self.calendar = WorkingCalendar.for_jurisdiction(jurisdiction, national_holidays())
        self.weights = weights or RateWeights()

    async def report(
        self,
        pool: asyncpg.Pool,
        kind: PeriodKind,
        day: date | None,
        now: datetime,
        weights: RateWeights | None = None,
    ) -> Report:
        """The report of the `kind` period holding `day` (default: today), as of `now`."""
        timezone = self.jurisdiction.timezone
        period = period_for(kind, day or local_date(now, timezone), timezone)
        # The trend window reaches back before the previous period; tickets still open then matter too.
        window_days = max(TREND_DAYS[kind], 2 * len(period.days))
        since = period_for(PeriodKind.DAILY, period.last - timedelta(days=window_days), timezone).start_at
        logs = await read_logs(pool, min(since, period.previous().start_at), min(now, period.end_at))
        kb = await read_kb(pool)
        return build_report(logs, period, now, self.jurisdiction, self.calendar, weights or self.weights, kb)
