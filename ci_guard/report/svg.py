"""Inline SVG charts drawn in Python: no JavaScript, no fonts or files to fetch.

Each function returns one `<svg>` element sized by its viewBox, so it scales to the
width of the card that holds it. Labels are escaped; numbers are formatted by the
caller-supplied function.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"'
AXIS = "#868e96"
GRID = "#e9ecef"
INK = "#343a40"
Fmt = Callable[[float], str]
MAX_BAR = 80
MAX_CELL = 90


@dataclass(frozen=True)
class Box:
    """The plot area inside a chart, in viewBox units."""

    left: float
    right: float
    top: float
    bottom: float

    @property
    def height(self) -> float:
        return self.bottom - self.top

    def y(self, share: float) -> float:
        return self.bottom - self.height * share

    @classmethod
    def wide(cls, width: int, height: int) -> Box:
        """The plot area of a full-width bar chart: room for the y labels and a legend."""
        return cls(64, width - 12, 34, height - 30)


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    color: str


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten that is >= value (and > 0)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= step * power * (1 + 1e-9):
            return step * power
    return 10.0 * power


def nice_axis(value: float, ticks: int = 4, *, whole: bool = False) -> float:
    """An axis top that splits into `ticks` round steps (0, 200, 400... not 0, 250, 500...);
    `whole` keeps steps >= 1 for counts."""
    step = nice_ceiling(value / ticks)
    return ticks * (max(step, 1.0) if whole else step)


def document(width: int, height: int, body: list[str], label: str) -> str:
    return (
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(label)}" {FONT} font-size="12">' + "".join(body) + "</svg>"
    )


def text(
    x: float,
    y: float,
    text: str,
    *,
    anchor: str = "middle",
    fill: str = AXIS,
    size: int = 12,
    weight: str = "normal",
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" '
        f'font-size="{size}" font-weight="{weight}">{escape(text)}</text>'
    )


def label_step(count: int, room: int) -> int:
    return max(1, math.ceil(count / max(room, 1)))


def y_grid(box: Box, top_value: float, fmt: Fmt, ticks: int = 4) -> list[str]:
    out = []
    for i in range(ticks + 1):
        value = top_value * i / ticks
        y = box.y(i / ticks)
        out.append(
            f'<line x1="{box.left}" x2="{box.right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
        out.append(text(box.left - 6, y + 4, fmt(value), anchor="end"))
    return out


def legend(series: Sequence[Series], x: float, y: float) -> list[str]:
    out = []
    for item in series:
        out.append(
            f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="12" height="12" rx="2" fill="{item.color}"/>'
        )
        out.append(text(x + 17, y + 1, item.name, anchor="start", fill=INK))
        x += 30 + 7 * len(item.name)
    return out


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    color: str,
    fmt: Fmt,
    label: str,
    width: int = 560,
    height: int = 260,
    x_title: str = "",
) -> str:
    """Vertical bars with their value on top; for a histogram."""
    left, right, top, bottom = 48, width - 12, 24, height - (44 if x_title else 28)
    top_value = nice_axis(max(values, default=0), whole=True)
    body = y_grid(Box(left, right, top, bottom), top_value, fmt)
    slot = (right - left) / max(len(values), 1)
    bar = min(slot * 0.7, MAX_BAR)
    for i, (name, value) in enumerate(zip(labels, values, strict=False)):
        h = (bottom - top) * value / top_value
        x = left + slot * i + (slot - bar) / 2
        body.append(
            f'<rect x="{x:.1f}" y="{bottom - h:.1f}" width="{bar:.1f}" '
            f'height="{h:.1f}" rx="3" fill="{color}"><title>{escape(name)}: '
            f"{escape(fmt(value))}</title></rect>"
        )
        body.append(text(x + bar / 2, bottom - h - 5, fmt(value), fill=INK, weight="600"))
        body.append(text(x + bar / 2, bottom + 16, name, fill=INK))
    if x_title:
        body.append(text((left + right) / 2, height - 6, x_title))
    return document(width, height, body, label)


def hbar_chart(
    rows: Sequence[tuple[str, float, str, str]],
    *,
    label: str,
    width: int = 560,
    row_height: int = 26,
    label_width: int = 170,
) -> str:
    """Horizontal bars: (label, value, colour, text after the bar), longest first."""
    height = max(len(rows), 1) * row_height + 12
    peak = max((value for _, value, _, _ in rows), default=0) or 1
    room = width - label_width - 120
    body = []
    for i, (name, value, color, note) in enumerate(rows):
        y = 6 + i * row_height
        w = max(room * value / peak, 2)
        body.append(text(label_width - 8, y + row_height / 2 + 4, name, anchor="end", fill=INK))
        body.append(
            f'<rect x="{label_width}" y="{y + 4}" width="{w:.1f}" '
            f'height="{row_height - 8}" rx="3" fill="{color}"><title>'
            f"{escape(name)}: {escape(note)}</title></rect>"
        )
        body.append(text(label_width + w + 6, y + row_height / 2 + 4, note, anchor="start"))
    return document(width, height, body, label)


def day_labels(days: Sequence[str], left: float, slot: float, y: float) -> list[str]:
    step = label_step(len(days), 10)
    return [
        text(left + slot * (i + 0.5), y, day[5:] if len(day) == 10 else day)
        for i, day in enumerate(days)
        if i % step == 0 or (i == len(days) - 1 and len(days) <= 10)
    ]


def line_chart(
    days: Sequence[str],
    series: Sequence[Series],
    *,
    label: str,
    counts: Sequence[int] = (),
    width: int = 1160,
    height: int = 280,
) -> str:
    """Shares (0..1) per day as lines with dots; optional run counts as faint bars behind."""
    left, right, top, bottom = 48, width - 48, 34, height - 30
    box = Box(left, right, top, bottom)
    body = y_grid(box, 1.0, lambda v: f"{v * 100:.0f}%")
    slot = (right - left) / max(len(days), 1)
    if counts:
        body.extend(count_bars(counts, box, slot))
    for item in series:
        points = [
            (left + slot * (i + 0.5), bottom - (bottom - top) * v)
            for i, v in enumerate(item.values)
            if v is not None
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            body.append(
                f'<polyline points="{path}" fill="none" stroke="{item.color}" '
                f'stroke-width="2.5" stroke-linejoin="round"/>'
            )
        radius = 3.5 if len(points) <= 60 else 1.5
        body.extend(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{item.color}"/>'
            for x, y in points
        )
    body.extend(day_labels(days, left, slot, height - 10))
    keyed = list(series)
    if counts:
        keyed.append(Series("runs (right axis)", (), "#dee2e6"))
    body.extend(legend(keyed, left, 16))
    return document(width, height, body, label)


def count_bars(counts: Sequence[int], box: Box, slot: float) -> list[str]:
    peak = nice_axis(max(counts, default=0), whole=True)
    out = []
    for i, count in enumerate(counts):
        h = box.height * count / peak
        bar = min(slot * 0.7, MAX_BAR)
        x = box.left + slot * i + (slot - bar) / 2
        out.append(
            f'<rect x="{x:.1f}" y="{box.bottom - h:.1f}" width="{bar:.1f}" '
            f'height="{h:.1f}" fill="#dee2e6"><title>{count} runs</title></rect>'
        )
    for i in range(5):
        out.append(text(box.right + 6, box.y(i / 4) + 4, f"{peak * i / 4:g}", anchor="start"))
    return out
