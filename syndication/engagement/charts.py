"""Small server-side SVG charts for the admin: a time series and horizontal bars.

Pure functions from numbers to an SVG string: no JavaScript, no charting library, no
CDN. Every chart is an image to assistive technology (``role="img"`` named by its
``<title>`` and described by its ``<desc>``), and its numbers are also written as
text, so nothing depends on reading a line's slope. Every piece of text that comes in
is escaped. Colours are Wagtail's teal for marks and ``currentColor`` for text, so
charts follow the admin's light and dark themes.
"""

from __future__ import annotations

import hashlib
import math
from html import escape

MARK = "#007d7e"
SECOND_MARK = "#c2410c"
GRID = "#b0b0b0"
FONT = 'font-family="inherit" font-size="12"'


def _id(prefix: str, *parts) -> str:
    digest = hashlib.sha1(repr(parts).encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{prefix}-{digest}"


def _number(value: float) -> str:
    if value is None:
        return "—"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _nice_max(value: float) -> float:
    """The smallest round number (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10ⁿ) at or above
    ``value``, at least 1: the top of the value axis."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _open(title: str, desc: str, width: int, height: int, chart_id: str, kind: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="engagement-chart engagement-chart--{kind}"'
        f' role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        # Drawn at its own size (text stays 12 px), narrower only when the screen is.
        ' style="max-width: 100%; height: auto"'
        f' aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]


def line_chart(
    labels: list[str],
    series: dict[str, list[float]],
    *,
    title: str,
    desc: str = "",
    width: int = 640,
    height: int = 200,
    chart_id: str | None = None,
) -> str:
    """A line per series over ``labels`` (days, usually), with a labelled value axis.

    ``desc`` defaults to a sentence giving each series' total and peak, so a screen
    reader hears the numbers the line shows.
    """
    chart_id = chart_id or _id("line", title, labels, sorted(series))
    if not desc:
        desc = " ".join(
            f"{name}: {_number(sum(values))} in all, at most {_number(max(values, default=0))}"
            f" on one day." + ("" if values else " No data.")
            for name, values in series.items()
        )
    left, right, top, bottom = 48, 12, 12 + 18 * len(series), 28
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _nice_max(max((v for values in series.values() for v in values), default=0))
    count = max(len(labels), 1)

    def x(index: int) -> float:
        return left + (plot_w * index / (count - 1) if count > 1 else plot_w / 2)

    def y(value: float) -> float:
        return top + plot_h - plot_h * (value / peak)

    parts = _open(title, desc, width, height, chart_id, "line")
    parts.append(f'<g {FONT} fill="currentColor" aria-hidden="true">')
    for fraction in (0, 0.5, 1):
        level = y(peak * fraction)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{level:.1f}" y2="{level:.1f}"'
            f' stroke="{GRID}" stroke-width="{1 if fraction == 0 else 0.5}"/>'
            f'<text x="{left - 6}" y="{level + 4:.1f}" text-anchor="end">'
            f"{escape(_number(peak * fraction))}</text>"
        )
    if labels:
        shown = {0, len(labels) - 1, (len(labels) - 1) // 2}
        for index in sorted(shown):
            anchor = "start" if index == 0 else "end" if index == len(labels) - 1 else "middle"
            parts.append(
                f'<text x="{x(index):.1f}" y="{height - 8}" text-anchor="{anchor}">'
                f"{escape(str(labels[index]))}</text>"
            )
    for number, (name, values) in enumerate(series.items()):
        colour = MARK if number == 0 else SECOND_MARK
        # A second series is dashed as well as coloured: colour is never the only cue.
        dashes = "" if number == 0 else ' stroke-dasharray="6 3"'
        legend_y = 14 + 18 * number
        parts.append(
            f'<line x1="{left}" x2="{left + 18}" y1="{legend_y - 4}" y2="{legend_y - 4}"'
            f' stroke="{colour}" stroke-width="3"{dashes}/>'
            f'<text x="{left + 24}" y="{legend_y}">{escape(name)}</text>'
        )
        if not values:
            continue
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"'
            f' stroke-linejoin="round" stroke-linecap="round"{dashes}/>'
        )
    parts.append("</g></svg>")
    return "".join(parts)


def bar_chart(
    items: list[tuple[str, float]],
    *,
    title: str,
    desc: str = "",
    width: int = 640,
    bar_height: int = 22,
    label_width: int = 260,
    chart_id: str | None = None,
    value_format=None,
) -> str:
    """Horizontal bars, one per ``(label, value)``, each labelled with its value."""
    value_format = value_format or _number
    chart_id = chart_id or _id("bars", title, items)
    if not desc:
        desc = (
            "; ".join(f"{label}: {value_format(value)}" for label, value in items) + "."
            if items
            else "No data."
        )
    gap, value_room = 6, 64
    height = max(len(items), 1) * (bar_height + gap) + gap
    plot_w = width - label_width - value_room
    peak = max((value for _, value in items), default=0) or 1
    parts = _open(title, desc, width, height, chart_id, "bars")
    parts.append(f'<g {FONT} fill="currentColor" aria-hidden="true">')
    if not items:
        parts.append(f'<text x="0" y="{bar_height - 4}">No data for this period.</text>')
    for index, (label, value) in enumerate(items):
        top = gap + index * (bar_height + gap)
        length = max(plot_w * max(value, 0) / peak, 0)
        text = str(label)
        if len(text) > 36:
            text = text[:35] + "…"
        middle = top + bar_height / 2 + 4
        parts.append(
            f'<text x="{label_width - 8}" y="{middle:.1f}" text-anchor="end">{escape(text)}</text>'
            f'<rect x="{label_width}" y="{top}" width="{length:.1f}" height="{bar_height}"'
            f' fill="{MARK}" rx="2"/>'
            f'<text x="{label_width + length + 6:.1f}" y="{middle:.1f}">'
            f"{escape(value_format(value))}</text>"
        )
    parts.append("</g></svg>")
    return "".join(parts)
