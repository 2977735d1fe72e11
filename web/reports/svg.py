"""Charts for the printed report as inline SVG, drawn here: no CDN, no JavaScript.

Every label is escaped (category and place names come from the jurisdiction file and from
citizens' addresses)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#c0392b", "#2471a3", "#d68910", "#229954", "#7d3c98", "#5d6d7e")
CURRENT, PREVIOUS = "#c0392b", "#c8ccd1"
FONT = 'font-family="Noto Sans CJK SC, Microsoft YaHei, sans-serif"'


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'style="max-width:100%;height:auto" role="img" aria-label="{escape(title)}" {FONT} font-size="12">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _nice_max(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2, 5 x 10^n)."""
    if value <= 0:
        return 1.0
    step = 1.0
    while step * 10 <= value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if value <= step * factor:
            return step * factor
    return step * 10


def hbars(
    items: Sequence[tuple[str, float]], title: str, unit: str = "", max_value: float | None = None
) -> str:
    """Horizontal bars, one per (label, value), longest first as given; value printed at the end."""
    width, label_w, row_h = 960, 190, 24
    height = 16 + row_h * max(len(items), 1)
    top = max_value or _nice_max(max((v for _, v in items), default=0))
    bar_w = width - label_w - 70
    body = []
    for n, (label, value) in enumerate(items):
        y = 8 + n * row_h
        length = bar_w * (value / top if top else 0)
        color = PALETTE[0] if n < 3 else PALETTE[1]
        body.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" fill="#333">{escape(label[:14])}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{length:.1f}" height="{row_h - 8}" rx="2"'
            f' fill="{color}"/>'
            f'<text x="{label_w + length + 6:.1f}" y="{y + 16}" fill="#333">{value:.1f}{escape(unit)}</text>'
        )
    return _svg(width, height, body, title)


def paired_bars(
    items: Sequence[tuple[str, int, int]], title: str, now: str = "本期", before: str = "上期"
) -> str:
    """Vertical bars per label: this period beside the previous one, with a legend."""
    width, height, left, bottom, top_pad = 960, 270, 40, 200, 28
    top = _nice_max(max((max(c, p) for _, c, p in items), default=0))
    slot = (width - left - 10) / max(len(items), 1)
    bar = min(22.0, slot / 2.6)
    body = [_legend(((now, CURRENT), (before, PREVIOUS)), left)]
    body += _y_axis(left, width, bottom, top_pad, top)
    for n, (label, current, previous) in enumerate(items):
        x = left + n * slot + slot / 2
        for offset, value, color in ((-bar, previous, PREVIOUS), (0.0, current, CURRENT)):
            h = (bottom - top_pad) * value / top
            body.append(
                f'<rect x="{x + offset:.1f}" y="{bottom - h:.1f}" width="{bar:.1f}" height="{h:.1f}"'
                f' fill="{color}"/>'
            )
        body.append(
            f'<text x="{x:.1f}" y="{bottom - (bottom - top_pad) * current / top - 4:.1f}"'
            f' fill="#333">{current}</text>'
        )
        body.append(
            f'<text x="{x:.1f}" y="{bottom + 14}" text-anchor="end"'
            f' transform="rotate(-30 {x:.1f} {bottom + 14})"'
            f' fill="#333">{escape(label[:10])}</text>'
        )
    return _svg(width, height, body, title)


def lines(days: Sequence[str], series: dict[str, list[int]], title: str) -> str:
    """One line per series over the days; the first series (the total) drawn thickest."""
    width, height, left, bottom, top_pad = 960, 250, 40, 215, 28
    top = _nice_max(max((max(values, default=0) for values in series.values()), default=0))
    step = (width - left - 20) / max(len(days) - 1, 1)
    body = [_legend(tuple((name, PALETTE[n % len(PALETTE)]) for n, name in enumerate(series)), left)]
    body += _y_axis(left, width, bottom, top_pad, top)
    for n, day in enumerate(days):
        if n % max(len(days) // 7, 1) == 0 or n == len(days) - 1:
            body.append(
                f'<text x="{left + n * step:.1f}" y="{bottom + 16}" text-anchor="middle"'
                f' fill="#555">{escape(day)}</text>'
            )
    for n, values in enumerate(series.values()):
        points = " ".join(
            f"{left + i * step:.1f},{bottom - (bottom - top_pad) * v / top:.1f}" for i, v in enumerate(values)
        )
        stroke = 3 if n == 0 else 1.6
        color = PALETTE[n % len(PALETTE)]
        body.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="{stroke}"/>')
    return _svg(width, height, body, title)


def _legend(entries: Sequence[tuple[str, str]], left: int) -> str:
    parts, x = [], float(left)
    for name, color in entries:
        parts.append(f'<rect x="{x:.0f}" y="6" width="12" height="12" fill="{color}"/>')
        parts.append(f'<text x="{x + 16:.0f}" y="16" fill="#333">{escape(name[:12])}</text>')
        x += 28 + 13 * min(len(name), 12)
    return "".join(parts)


def _y_axis(left: int, width: int, bottom: int, top_pad: int, top: float) -> list[str]:
    body = []
    for n in range(5):
        value = top * n / 4
        y = bottom - (bottom - top_pad) * n / 4
        label = f"{value:.0f}" if top >= 4 else f"{value:.1f}"
        body.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7ea"/>')
        body.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#777">{label}</text>')
    return body
