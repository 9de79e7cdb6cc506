"""The charts of the HTML report, one function each, from the report's figures."""

from __future__ import annotations

from html import escape

from ci_guard.report import fmt, svg, svg_grids, svg_runs
from ci_guard.report.figures import MirrorDay, Report

GREEN, BLUE, RED, AMBER, GREY = "#2f9e44", "#1c7ed6", "#e03131", "#f59f00", "#adb5bd"
TIME_UNITS = (("h", 3600.0), ("m", 60.0), ("s", 1.0))
OUTCOME_COLORS = {
    "first_try": GREEN,
    "rescued": "#66a80f",
    "failed": RED,
    "timed_out": "#d9480f",
    "cancelled": GREY,
    "incomplete": "#845ef7",
}
LOST_COLORS = {"failed attempts": "#fa5252", "waits": "#fcc419", "remedies": "#7950f2"}


def empty_placeholder(what: str = "no data") -> str:
    return f'<div class="empty">{escape(what)}</div>'


def _days(report: Report) -> list[str]:
    return [d.day for d in report.days]


def success_chart(report: Report) -> str:
    days = report.days
    if not any(d.rated_runs for d in days):
        return empty_placeholder("no finished runs")
    return svg.line_chart(
        _days(report),
        [
            svg.Series("after retries", [d.success_rate for d in days], GREEN),
            svg.Series("first try", [d.first_try_rate for d in days], BLUE),
        ],
        counts=[d.runs for d in days],
        label="success rate per day",
    )


def attempts_chart(report: Report) -> str:
    hist = report.attempts_histogram
    if not hist:
        return empty_placeholder("no finished runs")
    return svg.bar_chart(
        [str(n) for n in hist],
        list(hist.values()),
        color=BLUE,
        fmt=lambda v: f"{v:g}",
        label="attempts histogram",
        x_title="attempts",
    )


def classes_chart(report: Report) -> str:
    if not report.classes:
        return empty_placeholder("no failed attempt")
    rows = [
        (
            c.name,
            float(c.attempts),
            RED if c.retryable is False else AMBER,
            f"{c.attempts} · {fmt.percent(c.share)}",
        )
        for c in report.classes[:12]
    ]
    return svg.hbar_chart(rows, label="failure classes")


def _unit(peak: float) -> tuple[str, float]:
    """One readable unit for an axis, so it shows 1h, 2h... rather than 3600s, 7200s."""
    return next((u, s) for u, s in TIME_UNITS if peak >= 2 * s or s == 1)


def time_chart(report: Report) -> str:
    days = report.days
    peak = max((d.failed_attempts_s + d.waits_s + d.remedies_s for d in days), default=0.0)
    if peak <= 0:
        return empty_placeholder("no time lost: no run needed a retry")
    unit, size = _unit(peak)
    parts = {
        "failed attempts": [d.failed_attempts_s / size for d in days],
        "waits": [d.waits_s / size for d in days],
        "remedies": [d.remedies_s / size for d in days],
    }
    return svg_grids.stacked_bars(
        _days(report),
        [svg.Series(name, values, LOST_COLORS[name]) for name, values in parts.items()],
        fmt=lambda v: f"{v:.3g}{unit}",
        label="time lost per day",
    )


def lost_split_chart(report: Report) -> str:
    """Where the time lost went, all runs together, largest part first."""
    lost = report.time_lost
    if lost.total_s <= 0:
        return empty_placeholder("no time lost: no run needed a retry")
    parts = sorted(
        [
            ("waits", lost.waits_s),
            ("failed attempts", lost.failed_attempts_s),
            ("remedies", lost.remedies_s),
        ],
        key=lambda p: -p[1],
    )
    rows = [
        (
            name,
            seconds,
            LOST_COLORS[name],
            f"{fmt.duration(seconds)} · {fmt.percent(seconds / lost.total_s, 0)}",
        )
        for name, seconds in parts
    ]
    return svg.hbar_chart(rows, label="time lost by kind", label_width=130)


def runs_chart(report: Report) -> str:
    points = report.recent_runs
    if not points:
        return empty_placeholder("no runs")
    unit, size = _unit(max(p.duration_s for p in points))
    present = {p.outcome for p in points}
    colors = {k: c for k, c in OUTCOME_COLORS.items() if k in present}
    return svg_runs.run_bars(
        points, colors, scale=size, fmt=lambda v: f"{v:.3g}{unit}", label="duration per run"
    )


def mirror_chart(report: Report) -> str:
    if not report.mirrors:
        return empty_placeholder("no mirror probes in these logs")
    days = sorted({d.day for m in report.mirrors for d in m.days})
    rows, tips = [], []
    for mirror in report.mirrors[:20]:
        by_day = {d.day: d for d in mirror.days}
        note = f"{fmt.percent(mirror.healthy_share, 0)} · {fmt.latency(mirror.median_latency_s)}"
        cells = [by_day.get(day) for day in days]
        rows.append((mirror.url, [c.healthy_share if c else None for c in cells], note))
        tips.append([_day_tip(c) if c else None for c in cells])
    scale = "".join(
        f'<span class="sw" style="background:{svg_grids.share_color(s)}"></span>'
        for s in (0.0, 0.25, 0.5, 0.75, 1.0)
    )
    legend = f'<div class="scale">0% healthy {scale} 100% &middot; grey: no probe</div>'
    grid = svg_grids.heat_grid(rows, days, label="mirror health per day", tips=tips)
    return grid + legend


def _day_tip(day: MirrorDay) -> str:
    return (
        f"{day.day}: {fmt.percent(day.healthy_share, 0)} healthy of {day.probes} probes, "
        f"median {fmt.latency(day.median_latency_s)}, p95 {fmt.latency(day.p95_latency_s)}, "
        f"{day.dead} dead"
    )
