"""The per-run chart: one bar per run, its height the run's duration, its colour the
outcome, the time it lost to failures drawn darker at its foot."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from ci_guard.report.figures import RunPoint
from ci_guard.report.svg import (
    MAX_BAR,
    Box,
    Fmt,
    Series,
    document,
    label_step,
    legend,
    nice_axis,
    text,
    y_grid,
)

LOST_SHADE = "rgba(0,0,0,.35)"


def _tip(point: RunPoint, fmt: Fmt) -> str:
    parts = [
        point.run_id,
        (point.started_at or "")[:19].replace("T", " "),
        f"{fmt(point.duration_s)}",
        f"{point.attempts} attempt{'s' * (point.attempts != 1)}",
        point.outcome.replace("_", " "),
    ]
    if point.lost_s:
        parts.append(f"lost {fmt(point.lost_s)}")
    if point.failure_class:
        parts.append(point.failure_class)
    if point.project:
        parts.append(point.project)
    return " · ".join(p for p in parts if p)


def run_bars(
    points: Sequence[RunPoint],
    colors: Mapping[str, str],
    *,
    scale: float,
    fmt: Fmt,
    label: str,
    width: int = 1160,
    height: int = 260,
) -> str:
    """`scale` divides seconds into the axis unit; `fmt` formats an axis value."""
    box = Box.wide(width, height)
    left, right, bottom = box.left, box.right, box.bottom
    top_value = nice_axis(max((p.duration_s / scale for p in points), default=0))
    body = y_grid(box, top_value, fmt)
    slot = (right - left) / max(len(points), 1)
    bar = min(max(slot * 0.75, 1), MAX_BAR)
    for i, point in enumerate(points):
        x = left + slot * i + (slot - bar) / 2
        h = box.height * point.duration_s / scale / top_value
        lost = min(box.height * point.lost_s / scale / top_value, h)
        tip = escape(_tip(point, lambda v: fmt(v / scale)))
        color = colors.get(point.outcome, "#adb5bd")
        body.append(
            f'<rect x="{x:.1f}" y="{bottom - max(h, 1):.1f}" width="{bar:.1f}" '
            f'height="{max(h, 1):.1f}" rx="2" fill="{color}"><title>{tip}</title></rect>'
        )
        if lost > 0.5:
            body.append(
                f'<rect x="{x:.1f}" y="{bottom - lost:.1f}" width="{bar:.1f}" '
                f'height="{lost:.1f}" fill="{LOST_SHADE}"><title>{tip}</title></rect>'
            )
    step = label_step(len(points), 8)
    days = {p.started_at[:10] for p in points if p.started_at}
    # One day: the time tells runs apart; several: the day first.
    cut = slice(11, 19) if len(days) == 1 else slice(5, 16)
    for i, point in enumerate(points):
        if i % step == 0 and point.started_at:
            stamp = point.started_at[cut].replace("T", " ")
            body.append(text(left + slot * (i + 0.5), height - 10, stamp))
    keyed = [Series(name.replace("_", " "), (), color) for name, color in colors.items()]
    keyed.append(Series("time lost", (), LOST_SHADE))
    body.extend(legend(keyed, left, 16))
    return document(width, height, body, label)
