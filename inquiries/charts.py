"""Server-side SVG bar charts: geometry computed here, drawn by templates/includes/_bar_chart.html (no JS, no CDN)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Bar:
    label: str
    value: float
    x: float
    y: float
    width: float
    height: float
    label_x: float
    label_y: float


@dataclass
class BarChart:
    title: str
    description: str
    width: int
    height: int
    bars: list[Bar]
    horizontal: bool
    unit: str


def bar_chart(title: str, data: list[tuple[str, float]], *, unit: str = "", horizontal: bool = False) -> BarChart:
    """Lay out one bar per (label, value): columns over time, or horizontal bars for rankings."""
    peak = max((value for _, value in data), default=0) or 1
    bars: list[Bar] = []
    if horizontal:
        label_width, row, width = 150, 26, 560
        span = width - label_width - 50
        for i, (label, value) in enumerate(data):
            length = span * value / peak
            y = 8 + i * row
            bars.append(Bar(label, value, label_width, y, length, row - 8, label_width + length + 6, y + row / 2))
        height = 16 + row * max(len(data), 1)
    else:
        width, height, bottom, top = 560, 220, 40, 20
        slot = (width - 20) / max(len(data), 1)
        for i, (label, value) in enumerate(data):
            bar_height = (height - bottom - top) * value / peak
            x = 10 + i * slot + slot * 0.15
            y = height - bottom - bar_height
            bars.append(Bar(label, value, x, y, slot * 0.7, bar_height, x + slot * 0.35, height - bottom + 16))
    summary = ", ".join(f"{label}: {value:g}{unit}" for label, value in data) or "no data yet"
    return BarChart(title, summary, width, height, bars, horizontal, unit)
