"""The report as one self-contained HTML page, in Chinese, for a leader to read or print.

Inline CSS and inline SVG charts (`web.reports.svg`); every text from data is escaped."""

from __future__ import annotations

from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from domain.reporting import Count, Rates, Report, Row
from web.names import STATUS_NAMES
from web.reports import svg as report_svg

CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;color:#222;margin:0;background:#f3f4f6}
main{max-width:1040px;margin:0 auto;background:#fff;padding:28px 40px 40px}
header{border-bottom:3px solid #c0392b;padding-bottom:10px;margin-bottom:18px}
h1{font-size:26px;margin:0 0 6px;color:#c0392b;letter-spacing:2px;text-align:center}
.meta{text-align:center;color:#555;font-size:13px}
h2{font-size:18px;border-left:5px solid #c0392b;padding-left:10px;margin:28px 0 12px}
h3{font-size:15px;margin:14px 0 8px;color:#333}
.summary{background:#fdf2f0;border:1px solid #f2c9c2;padding:10px 14px;line-height:1.8;font-size:14px}
.cards{display:grid;grid-template-columns:repeat(6,1fr);gap:10px;margin:12px 0}
.card{border:1px solid #e1e4e8;border-radius:6px;padding:10px;text-align:center}
.card b{display:block;font-size:22px;color:#c0392b}.card span{font-size:12px;color:#666}
.card small{display:block;font-size:11px;color:#888}
table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0}
th,td{border:1px solid #dfe2e5;padding:5px 6px;text-align:center}
th{background:#f6f7f9;font-weight:600}td.l{text-align:left}
.two{display:grid;grid-template-columns:1fr 1fr;gap:18px}
.good{color:#1e8449}.bad{color:#c0392b}.up{color:#c0392b}.down{color:#1e8449}
.flag{display:inline-block;background:#c0392b;color:#fff;border-radius:3px;padding:0 4px;
margin:1px;font-size:12px}
dl{font-size:13px;line-height:1.7}dt{font-weight:600;float:left;width:100px}dd{margin-left:110px}
figure{margin:8px 0}figcaption{font-size:12px;color:#666}
"""


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def local(at: datetime | None, timezone: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "—" if at is None else at.astimezone(ZoneInfo(timezone)).strftime(fmt)


def render_html(report: Report, generated_at: datetime) -> str:
    tz = report.period.timezone
    sections = [
        _overview(report),
        _rankings(report),
        _hot_spots(report),
        _trends(report),
        _units_table(report),
        _towns(report),
        _answers(report),
        _outstanding(report),
        _definitions(report),
    ]
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(report.title)} {escape(report.period.label)}</title><style>{CSS}</style></head>"
        f"<body><main><header><h1>{escape(report.title)}</h1>"
        f'<div class="meta">{escape(report.period.label)} · 数据截至 {local(report.as_of, tz)} · '
        f"生成于 {local(generated_at, tz)}</div></header>{''.join(sections)}</main></body></html>"
    )


def _change(now: float, before: float) -> str:
    if before == 0:
        return "上期无数据" if now else "与上期持平"
    delta = (now - before) / before * 100
    word = "增加" if delta > 0 else "减少"
    return "与上期持平" if delta == 0 else f"较上期{word} {abs(delta):.1f}%"


def _overview(report: Report) -> str:
    t, before = report.totals, report.totals_previous
    dispositions = "，".join(f"{name} {n} 件" for name, n in report.dispositions.items())
    summary = (
        f"本期共受理市民诉求 <b>{report.received}</b> 件"
        f"（{_change(report.received, report.received_previous)}），"
        f"其中{dispositions}，即办率 {pct(report.instant_rate)}。"
        f"本期派单 <b>{t.dispatched}</b> 件，响应率 {pct(t.response_rate)}，"
        f"办结率 {pct(t.completion_rate)}，按期办结率 {pct(t.on_time_rate)}，"
        f"满意率 {pct(t.satisfaction_rate)}"
        f"（上期 {pct(before.satisfaction_rate)}）；超期 <b>{t.overdue}</b> 件，"
        f"重办 {t.reworks} 次，退单 {t.returns} 次。"
    )
    cards = [
        ("受理量", str(report.received), f"上期 {report.received_previous}"),
        ("派单量", str(t.dispatched), f"上期 {before.dispatched}"),
        ("响应率", pct(t.response_rate), f"上期 {pct(before.response_rate)}"),
        ("办结率", pct(t.completion_rate), f"上期 {pct(before.completion_rate)}"),
        ("按期办结率", pct(t.on_time_rate), f"上期 {pct(before.on_time_rate)}"),
        ("满意率", pct(t.satisfaction_rate), f"上期 {pct(before.satisfaction_rate)}"),
        ("解决率", pct(t.solved_rate), f"上期 {pct(before.solved_rate)}"),
        ("超期", str(t.overdue), f"上期 {before.overdue}"),
        ("重办", str(t.reworks), f"上期 {before.reworks}"),
        ("退单", str(t.returns), f"上期 {before.returns}"),
        ("平均办理时长", hours(t.average_handling_hours), "工作小时"),
        ("回访联系上", str(t.reached), f"不满意 {t.dissatisfied}"),
    ]
    html = "".join(f"<div class=card><span>{n}</span><b>{v}</b><small>{s}</small></div>" for n, v, s in cards)
    return f'<h2>一、总体情况</h2><div class="summary">{summary}</div><div class="cards">{html}</div>'


def _rank_table(rows: list[Row], css: str) -> str:
    body = "".join(
        f"<tr><td>{n}</td><td class=l>{escape(r.name)}</td><td class={css}>{r.score or 0:.1f}</td>"
        f"<td>{r.rates.dispatched}</td><td>{pct(r.rates.on_time_rate)}</td><td>{pct(r.rates.satisfaction_rate)}</td></tr>"
        for n, r in enumerate(rows, 1)
    )
    head = (
        "<tr><th>名次</th><th>单位</th><th>综合得分</th><th>派单</th><th>按期办结率</th><th>满意率</th></tr>"
    )
    return f"<table>{head}{body or '<tr><td colspan=6>本期无达到排名条件的单位</td></tr>'}</table>"


def _rankings(report: Report) -> str:
    chart = report_svg.hbars(
        [(r.name, r.score or 0.0) for r in report.ranked[:15]], "承办单位综合得分", max_value=100
    )
    return (
        "<h2>二、承办单位排名</h2>"
        f'<div class="two"><div><h3>红榜（综合得分前{len(report.best)}名）</h3>'
        f"{_rank_table(report.best, 'good')}</div>"
        f"<div><h3>黑榜（综合得分后{len(report.worst)}名）</h3>{_rank_table(report.worst, 'bad')}</div></div>"
        f"<figure>{chart}<figcaption>综合得分 = 响应率×20% + 办结率×20% + 按期办结率×30% + 满意率×30%"
        "（无分母的指标不计，权重按比例折算）；本期派单不足 3 件的单位不参与排名。</figcaption></figure>"
    )


def _counts_table(counts: list[Count], what: str) -> str:
    body = "".join(
        f"<tr><td>{n}</td><td class=l>{escape(c.name)}</td><td>{c.current}</td><td>{c.previous}</td>"
        f'<td class="{"up" if c.growth > 0 else "down"}">{c.growth:+d}</td></tr>'
        for n, c in enumerate(counts, 1)
    )
    return f"<table><tr><th>序</th><th>{what}</th><th>本期</th><th>上期</th><th>增减</th></tr>{body}</table>"


def _hot_spots(report: Report) -> str:
    top = report.categories_received[:8]
    chart = report_svg.paired_bars([(c.name, c.current, c.previous) for c in top], "诉求类别本期与上期")
    return (
        "<h2>三、热点问题</h2>"
        f"<figure>{chart}<figcaption>受理量前 8 的诉求类别，本期与上期对比</figcaption></figure>"
        f'<div class="two"><div><h3>热点类别</h3>'
        f"{_counts_table(report.categories_received[:8], '类别')}</div>"
        f"<div><h3>增长最快</h3>{_counts_table(report.rising, '类别/属地')}</div></div>"
        f'<div class="two"><div><h3>热点属地</h3>{_counts_table(report.towns_received[:8], "属地")}</div>'
        f"<div><h3>热点地点</h3>{_counts_table(report.places_received[:8], '地点')}</div></div>"
    )


def _trends(report: Report) -> str:
    days = [d.strftime("%m-%d") for d in report.trend_days]
    chart = report_svg.lines(days, report.trend, "每日受理量走势")
    towns = report.towns_received[:10]
    town_chart = report_svg.paired_bars([(c.name, c.current, c.previous) for c in towns], "各属地受理量")
    return (
        f"<h2>四、趋势</h2><figure>{chart}"
        f"<figcaption>近 {len(days)} 天每日受理量：全部及前 5 类诉求</figcaption></figure>"
        f"<figure>{town_chart}<figcaption>各属地（街道、乡镇）受理量，本期与上期对比</figcaption></figure>"
    )


def _rates_cells(r: Rates) -> str:
    cells = (
        r.dispatched,
        pct(r.response_rate),
        pct(r.completion_rate),
        pct(r.on_time_rate),
        pct(r.solved_rate),
        pct(r.satisfaction_rate),
        r.overdue,
        r.reworks,
        r.returns,
        hours(r.average_handling_hours),
    )
    return "".join(f"<td>{c}</td>" for c in cells)


RATE_HEAD = (
    "<th>派单</th><th>响应率</th><th>办结率</th><th>按期办结率</th><th>解决率</th><th>满意率</th>"
    "<th>超期</th><th>重办</th><th>退单</th><th>平均办理时长(工作小时)</th>"
)


def _rows_table(rows: list[Row], what: str) -> str:
    body = "".join(f"<tr><td class=l>{escape(r.name)}</td>{_rates_cells(r.rates)}</tr>" for r in rows)
    return f"<table><tr><th>{what}</th>{RATE_HEAD}</tr>{body}</table>"


def _units_table(report: Report) -> str:
    return f"<h2>五、各承办单位指标</h2>{_rows_table(report.units, '单位')}"


def _towns(report: Report) -> str:
    return (
        f"<h2>六、各属地及类别指标</h2><h3>属地</h3>{_rows_table(report.towns, '属地')}"
        f"<h3>诉求类别</h3>{_rows_table(report.categories[:15], '类别')}"
    )


def _answers(report: Report) -> str:
    """七、即办与知识库: the answers given on the line and the entries they came from."""
    rows = "".join(
        f"<tr><td>{n}</td><td class=l>{escape(u.title)}</td><td>{escape(u.unit)}</td><td>{u.used}</td>"
        f'<td class="{"bad" if u.wanting else ""}">{u.wanting}</td>'
        f"<td>{'已过期' if u.out_of_date else '有效'}</td></tr>"
        for n, u in enumerate(report.kb_used, 1)
    )
    names = ("序", "知识库条目", "责任单位", "即办引用", "回访不满意", "状态")
    head = "<tr>" + "".join(f"<th>{n}</th>" for n in names) + "</tr>"
    empty = "<tr><td colspan=6>本期无引用知识库的即办答复</td></tr>"
    ended = "、".join(f"{escape(u.title)}（{u.unit}，{u.valid_to}止）" for u in report.kb_out_of_date[:20])
    stale = (
        f"<p>知识库中已过有效期、仍在使用的条目 {len(report.kb_out_of_date)} 条：{ended}。"
        "请责任单位更新或下架。</p>"
    )
    return (
        "<h2>七、即办与知识库</h2>"
        f'<div class="summary">本期即办 <b>{report.dispositions.get("即办", 0)}</b> 件，'
        f"即办率 {pct(report.instant_rate)}；引用知识库条目 {len(report.kb_used)} 条。</div>"
        f"<table>{head}{rows or empty}</table>{stale if report.kb_out_of_date else ''}"
    )


def _outstanding(report: Report) -> str:
    tz = report.period.timezone
    body = "".join(
        f"<tr><td>{escape(o.ticket_id)}</td><td>{local(o.received_at, tz, '%m-%d %H:%M')}</td>"
        f"<td class=l>{escape(o.category)}</td><td>{escape(o.town)}</td><td>{escape(o.lead)}</td>"
        f"<td>{STATUS_NAMES.get(o.status, escape(o.status))}</td>"
        f"<td>{local(o.due_at, tz, '%m-%d %H:%M')}</td>"
        f"<td>{''.join(f'<span class=flag>{escape(f)}</span>' for f in o.flags)}</td>"
        f"<td class=l>{escape(o.text[:60])}</td></tr>"
        for o in report.outstanding
    )
    names = ("工单", "受理", "类别", "属地", "牵头单位", "状态", "时限", "问题", "诉求摘要")
    head = "<tr>" + "".join(f"<th>{n}</th>" for n in names) + "</tr>"
    shown = f"（共 {report.outstanding_total} 件，列出 {len(report.outstanding)} 件）"
    empty = "<tr><td colspan=9>截至报告时无督办、超期、不满意或重办未结的工单</td></tr>"
    return f"<h2>八、突出问题清单{shown}</h2><table>{head}{body or empty}</table>"


def _definitions(report: Report) -> str:
    items = "".join(f"<dt>{escape(n)}</dt><dd>{escape(d)}</dd>" for n, d in report.definitions)
    weight = report.weights.basically_satisfied
    note = f"<p style='font-size:13px'>本报告“基本满意”权重：{weight:g}。</p>"
    return f"<h2>九、指标口径</h2><dl>{items}</dl>{note}"
