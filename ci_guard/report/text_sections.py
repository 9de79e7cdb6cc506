"""Text sections that explain the history: where the time went, run by run, and how
each mirror and the builder fared per day."""

from __future__ import annotations

from ci_guard.report import fmt
from ci_guard.report.figures import Report, SlowRun, TimeLost

OUTCOME_MARKS = {
    "first_try": "o",
    "rescued": "r",
    "failed": "F",
    "timed_out": "T",
    "cancelled": "c",
    "incomplete": "?",
}
OUTCOME_LEGEND = (
    "o first try, r rescued by a retry, F failed, T timed out, c cancelled, ? incomplete"
)
LISTED_RUNS = 10
MIRROR_DAYS = 7


def lost_line(lost: TimeLost) -> str:
    """Time lost with its parts largest first, so the biggest cost is read first."""
    parts = [
        ("waits", lost.waits_s),
        ("failed attempts", lost.failed_attempts_s),
        ("remedies", lost.remedies_s),
    ]
    parts.sort(key=lambda p: -p[1])
    total = lost.total_s
    shown = ", ".join(
        f"{name} {fmt.duration(seconds)}" + (f" {fmt.percent(seconds / total, 0)}" if total else "")
        for name, seconds in parts
    )
    line = (
        f"Time lost     {fmt.duration(total)}  ({shown}) "
        f"in {lost.runs_with_retries} runs that retried"
    )
    notes = []
    if lost.cut_waits:
        notes.append(f"{lost.cut_waits} waits cut short by a cancel, counted as far as they went")
    if lost.runs_split_by_writer:
        notes.append(f"{lost.runs_split_by_writer} runs logged the split themselves")
    return line + "".join(f"\n  note: {n}" for n in notes)


def runs_trend(report: Report, ascii_only: bool) -> str:
    points = report.recent_runs
    if not points:
        return ""
    peak = max(p.duration_s for p in points) or 1.0
    spark = fmt.sparkline([p.duration_s / peak for p in points], ascii_only=ascii_only)
    marks = "".join(OUTCOME_MARKS.get(p.outcome, "?") for p in points)
    head = f"Last {len(points)} runs, oldest first (duration peak {fmt.duration(peak)})"
    listed = points[-LISTED_RUNS:]
    rows = [
        [
            (p.started_at or "-")[:19].replace("T", " "),
            p.run_id,
            fmt.duration(p.duration_s),
            str(p.attempts),
            p.outcome,
            fmt.duration(p.lost_s) if p.lost_s else "-",
            p.failure_class or "-",
            p.project or "-",
        ]
        for p in listed
    ]
    table = fmt.table(
        ["started (UTC)", "run", "duration", "attempts", "outcome", "lost", "class", "project"],
        rows,
        right=(2, 3, 5),
    )
    return (
        f"{head}\n  duration  {spark}\n  outcome   {marks}\n  ({OUTCOME_LEGEND})\n"
        f"Latest {len(listed)}\n{table}"
    )


def slow_detail(run: SlowRun) -> str:
    """The line under a slow run: what it ran and where to see its job."""
    parts = [f"$ {run.command}" if run.command else "$ (command not logged)"]
    if run.ci_job_url:
        parts.append(run.ci_job_url)
    return "    " + "  ".join(parts)


def _short_time(stamp: str | None) -> str:
    return "-" if stamp is None else stamp[5:16].replace("T", " ")


def mirror_days(report: Report) -> str:
    rows = []
    for mirror in report.mirrors:
        for day in mirror.days[-MIRROR_DAYS:]:
            rows.append(
                [
                    mirror.url,
                    day.day,
                    str(day.probes),
                    fmt.percent(day.healthy_share),
                    fmt.latency(day.median_latency_s),
                    fmt.latency(day.p95_latency_s),
                    str(day.dead),
                ]
            )
    if not rows:
        return ""
    return f"Mirror health per day (last {MIRROR_DAYS} days with probes)\n" + fmt.table(
        ["mirror", "day", "probes", "healthy", "median", "p95", "dead"], rows, right=(2, 3, 4, 5, 6)
    )


def last_dead(stamp: str | None) -> str:
    return _short_time(stamp) if stamp else "never"


def builder(report: Report) -> str:
    if not report.builder:
        return ""
    rows = [
        [
            d.day,
            str(d.checks),
            str(d.ok),
            ", ".join(f"{name} {count}" for name, count in d.decisions.items()),
            fmt.latency(d.median_probe_s),
        ]
        for d in report.builder
    ]
    return "Builder after mirror reloads (builder.mirrors)\n" + fmt.table(
        ["day", "checks", "ok", "decisions", "median probe"], rows, right=(1, 2, 4)
    )
