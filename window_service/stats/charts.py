"""Small server-side SVG charts (bar and line), no JavaScript needed to see them.

Every text is XML-escaped; sizes are in user units with a ``viewBox``, so the charts scale
with the page. Missing values (None) leave a gap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

PALETTE = ("#1f6feb", "#d97706", "#15803d", "#b91c1c", "#7c3aed", "#0e7490")
FONT = "'Noto Sans CJK SC','Microsoft YaHei',sans-serif"
#: Title on the first line, legend on the second, the plot below.
TOP = 52


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    color: str = ""


def nice_max(value: float) -> float:
    """A round upper bound for an axis (1, 2, 2.5, 5 × 10^n)."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        bound = step * 10**exponent
        if bound >= value:
            return float(bound)
    return float(10 ** (exponent + 1))


def _fmt(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _frame(
    title: str,
    width: int,
    height: int,
    top: float,
    unit: str,
    left: int,
    bottom: int,
    series: Sequence[Series],
) -> list[str]:
    plot_h = height - bottom - TOP
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label={quoteattr(title)} font-family="{FONT}" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="18" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    for i in range(5):
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">'
            f"{escape(_fmt(value))}</text>"
        )
    if unit:
        parts.append(f'<text x="4" y="{TOP - 6}" fill="#555">{escape(unit)}</text>')
    x = left
    for index, s in enumerate(series):
        color = s.color or PALETTE[index % len(PALETTE)]
        parts.append(
            f'<rect x="{x}" y="28" width="10" height="10" fill="{color}"/>'
            f'<text x="{x + 14}" y="37">{escape(s.name)}</text>'
        )
        x += 14 + sum(12 if ord(c) > 255 else 7 for c in s.name) + 18
    return parts


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    unit: str = "",
    width: int = 720,
    height: int = 280,
) -> str:
    """Grouped vertical bars, one group per label."""
    left, bottom = 48, 44
    plot_w, plot_h = width - left - 10, height - bottom - TOP
    values = [v for s in series for v in s.values if v is not None]
    top = nice_max(max(values, default=0.0))
    parts = _frame(title, width, height, top, unit, left, bottom, series)
    n = max(len(labels), 1)
    slot = plot_w / n
    bar = max(1.0, slot * 0.8 / max(len(series), 1))
    for i, label in enumerate(labels):
        x0 = left + slot * i + slot * 0.1
        for j, s in enumerate(series):
            value = s.values[i] if i < len(s.values) else None
            if value is None:
                continue
            h = plot_h * value / top
            color = s.color or PALETTE[j % len(PALETTE)]
            parts.append(
                f'<rect x="{x0 + bar * j:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{color}"><title>{escape(label)} · {escape(s.name)}: '
                f"{escape(_fmt(value))}</title></rect>"
            )
        if n <= 16 or i % math.ceil(n / 16) == 0:
            parts.append(
                f'<text x="{left + slot * (i + 0.5):.1f}" y="{height - bottom + 16}" '
                f'text-anchor="middle" fill="#333">{escape(label[:10])}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    unit: str = "",
    width: int = 720,
    height: int = 280,
) -> str:
    """Lines over the labels (e.g. days of a month); gaps where a value is missing."""
    left, bottom = 48, 44
    plot_w, plot_h = width - left - 10, height - bottom - TOP
    values = [v for s in series for v in s.values if v is not None]
    top = nice_max(max(values, default=0.0))
    parts = _frame(title, width, height, top, unit, left, bottom, series)
    n = max(len(labels), 1)
    step = plot_w / max(n - 1, 1)
    for j, s in enumerate(series):
        color = s.color or PALETTE[j % len(PALETTE)]
        segment: list[str] = []
        for i in range(n):
            value = s.values[i] if i < len(s.values) else None
            if value is None:
                if len(segment) > 1:
                    parts.append(_polyline(segment, color))
                segment = []
                continue
            x = left + step * i if n > 1 else left + plot_w / 2
            y = TOP + plot_h - plot_h * value / top
            segment.append(f"{x:.1f},{y:.1f}")
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{color}">'
                f"<title>{escape(labels[i])} · {escape(s.name)}: {escape(_fmt(value))}</title>"
                "</circle>"
            )
        if len(segment) > 1:
            parts.append(_polyline(segment, color))
    every = max(1, math.ceil(n / 12))
    for i, label in enumerate(labels):
        if i % every == 0:
            x = left + step * i if n > 1 else left + plot_w / 2
            parts.append(
                f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                f'fill="#333">{escape(label[:10])}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _polyline(points: list[str], color: str) -> str:
    return f'<polyline points="{" ".join(points)}" fill="none" stroke="{color}" stroke-width="2"/>'
