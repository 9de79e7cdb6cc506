"""Grid-shaped SVG charts: stacked bars per day and the mirror health heat grid."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from html import escape

from ci_guard.report.svg import (
    INK,
    MAX_BAR,
    MAX_CELL,
    Box,
    Fmt,
    Series,
    day_labels,
    document,
    legend,
    nice_axis,
    text,
    y_grid,
)


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
    box = Box.wide(width, height)
    left, right, top, bottom = box.left, box.right, box.top, box.bottom
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(days))]
    top_value = nice_axis(max(totals, default=0))
    body = y_grid(box, top_value, fmt)
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
    body.extend(day_labels(days, left, slot, height - 10))
    body.extend(legend(series, left, 16))
    return document(width, height, body, label)


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
    tips: Sequence[Sequence[str | None]] = (),
) -> str:
    """One row per mirror, one cell per day coloured by healthy share; a note at the end.
    `tips[row][day]`, when given, replaces a cell's hover text."""
    note_width = 150
    height = len(rows) * row_height + 34
    slot = min((width - label_width - note_width) / max(len(days), 1), MAX_CELL)
    body = []
    for r, (name, shares, note) in enumerate(rows):
        y = 6 + r * row_height
        shown = name if len(name) <= 38 else name[:35] + "..."
        body.append(text(label_width - 10, y + row_height / 2 + 3, shown, anchor="end", fill=INK))
        for i, share in enumerate(shares):
            x = label_width + slot * i
            tip = f"{days[i]}: " + ("no probe" if share is None else f"{share * 100:.0f}% healthy")
            custom = tips[r][i] if r < len(tips) and i < len(tips[r]) else None
            tip = custom or tip
            body.append(
                f'<rect x="{x + 1:.1f}" y="{y + 2}" width="{max(slot - 2, 1):.1f}" '
                f'height="{row_height - 6}" rx="3" fill="{share_color(share)}">'
                f"<title>{escape(name)} {escape(tip)}</title></rect>"
            )
        body.append(
            text(
                label_width + slot * len(days) + 10,
                y + row_height / 2 + 3,
                note,
                anchor="start",
                fill=INK,
            )
        )
    body.extend(day_labels(days, label_width, slot, height - 10))
    return document(width, height, body, label)
