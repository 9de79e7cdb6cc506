"""Inline SVG charts drawn in Python: no JavaScript, no fonts or files to fetch.

Each function returns one `<svg>` element sized by its viewBox, so it scales to the
width of the card that holds it. Labels are escaped; numbers are formatted by the
caller-supplied function.
"""

from __future__ import annotations

import itertools
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


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(label)}" {FONT} font-size="12">' + "".join(body) + "</svg>"
    )


def _text(
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


def _label_step(count: int, room: int) -> int:
    return max(1, math.ceil(count / max(room, 1)))


def _y_grid(box: Box, top_value: float, fmt: Fmt, ticks: int = 4) -> list[str]:
    out = []
    for i in range(ticks + 1):
        value = top_value * i / ticks
        y = box.y(i / ticks)
        out.append(
            f'<line x1="{box.left}" x2="{box.right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
        out.append(_text(box.left - 6, y + 4, fmt(value), anchor="end"))
    return out


def _legend(series: Sequence[Series], x: float, y: float) -> list[str]:
    out = []
    for item in series:
        out.append(
            f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="12" height="12" rx="2" fill="{item.color}"/>'
        )
        out.append(_text(x + 17, y + 1, item.name, anchor="start", fill=INK))
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
    body = _y_grid(Box(left, right, top, bottom), top_value, fmt)
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
        body.append(_text(x + bar / 2, bottom - h - 5, fmt(value), fill=INK, weight="600"))
        body.append(_text(x + bar / 2, bottom + 16, name, fill=INK))
    if x_title:
        body.append(_text((left + right) / 2, height - 6, x_title))
    return _svg(width, height, body, label)


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
        body.append(_text(label_width - 8, y + row_height / 2 + 4, name, anchor="end", fill=INK))
        body.append(
            f'<rect x="{label_width}" y="{y + 4}" width="{w:.1f}" '
            f'height="{row_height - 8}" rx="3" fill="{color}"><title>'
            f"{escape(name)}: {escape(note)}</title></rect>"
        )
        body.append(_text(label_width + w + 6, y + row_height / 2 + 4, note, anchor="start"))
    return _svg(width, height, body, label)


def _x_labels(days: Sequence[str], left: float, slot: float, y: float) -> list[str]:
    step = _label_step(len(days), 10)
    return [
        _text(left + slot * (i + 0.5), y, day[5:] if len(day) == 10 else day)
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
    body = _y_grid(box, 1.0, lambda v: f"{v * 100:.0f}%")
    slot = (right - left) / max(len(days), 1)
    if counts:
        body.extend(_count_bars(counts, box, slot))
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
    body.extend(_x_labels(days, left, slot, height - 10))
    legend = list(series)
    if counts:
        legend.append(Series("runs (right axis)", (), "#dee2e6"))
    body.extend(_legend(legend, left, 16))
    return _svg(width, height, body, label)


def _count_bars(counts: Sequence[int], box: Box, slot: float) -> list[str]:
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
        out.append(_text(box.right + 6, box.y(i / 4) + 4, f"{peak * i / 4:g}", anchor="start"))
    return out


def stacked_bars(
    days: Sequence[str],
    series: Sequence[Series],
    *,
    fmt: Fmt,
    label: str,
    width: int = 1160,
    height: int = 260,
) -> str:
    """Per-day bars stacked from several series (e.g. failed attempts + waits)."""
    left, right, top, bottom = 64, width - 12, 34, height - 30
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(days))]
    top_value = nice_axis(max(totals, default=0))
    body = _y_grid(Box(left, right, top, bottom), top_value, fmt)
    slot = (right - left) / max(len(days), 1)
    bar = min(max(slot * 0.7, 1), MAX_BAR)
    for i, day in enumerate(days):
        base = float(bottom)
        for item in series:
            value = item.values[i] or 0
            h = (bottom - top) * value / top_value
            if h <= 0:
                continue
            body.append(
                f'<rect x="{left + slot * i + (slot - bar) / 2:.1f}" '
                f'y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{item.color}"><title>{escape(day)} {escape(item.name)}: '
                f"{escape(fmt(value))}</title></rect>"
            )
            base -= h
    body.extend(_x_labels(days, left, slot, height - 10))
    body.extend(_legend(series, left, 16))
    return _svg(width, height, body, label)


def share_color(share: float | None) -> str:
    """Red (0) through amber to green (1); grey for no data."""
    if share is None:
        return "#f1f3f5"
    stops = ((0.0, (224, 49, 49)), (0.6, (245, 159, 0)), (1.0, (47, 158, 68)))
    for (a, ca), (b, cb) in itertools.pairwise(stops):
        if share <= b:
            t = (share - a) / (b - a)
            rgb = [round(x + (y - x) * t) for x, y in zip(ca, cb, strict=False)]
            return "#{:02x}{:02x}{:02x}".format(*rgb)
    return "#2f9e44"


def heat_grid(
    rows: Sequence[tuple[str, Sequence[float | None], str]],
    days: Sequence[str],
    *,
    label: str,
    width: int = 1160,
    row_height: int = 30,
    label_width: int = 260,
) -> str:
    """One row per mirror, one cell per day coloured by healthy share; a note at the end."""
    note_width = 150
    height = len(rows) * row_height + 34
    slot = min((width - label_width - note_width) / max(len(days), 1), MAX_CELL)
    body = []
    for r, (name, shares, note) in enumerate(rows):
        y = 6 + r * row_height
        shown = name if len(name) <= 38 else name[:35] + "..."
        body.append(_text(label_width - 10, y + row_height / 2 + 3, shown, anchor="end", fill=INK))
        for i, share in enumerate(shares):
            x = label_width + slot * i
            tip = f"{days[i]}: " + ("no probe" if share is None else f"{share * 100:.0f}% healthy")
            body.append(
                f'<rect x="{x + 1:.1f}" y="{y + 2}" width="{max(slot - 2, 1):.1f}" '
                f'height="{row_height - 6}" rx="3" fill="{share_color(share)}">'
                f"<title>{escape(name)} {escape(tip)}</title></rect>"
            )
        body.append(
            _text(
                label_width + slot * len(days) + 10,
                y + row_height / 2 + 3,
                note,
                anchor="start",
                fill=INK,
            )
        )
    body.extend(_x_labels(days, label_width, slot, height - 10))
    return _svg(width, height, body, label)
