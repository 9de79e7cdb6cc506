"""The report as plain text tables for a terminal or a CI log."""

from __future__ import annotations

from ci_guard.report import fmt
from ci_guard.report import text_sections as more
from ci_guard.report.figures import Report

SKIP_WORDS = {
    "not_json": "not JSON (other tools, garbage, truncated lines)",
    "not_an_event": "JSON but not a ci-guard event",
    "bad_fields": "ci-guard events with malformed fields",
    "unreadable_tail": "files cut short (corrupt or truncated archive)",
    "vanished": "files gone before they were read (a folder still being written)",
}


def render_text(report: Report, *, ascii_only: bool = False) -> str:
    sections = [
        _summary(report, ascii_only),
        more.runs_trend(report, ascii_only),
        _attempts(report, ascii_only),
        _classes(report),
        _remedies(report),
        _mirrors(report, ascii_only),
        more.mirror_days(report),
        more.builder(report),
        _slowest(report),
        _input(report),
    ]
    return "\n\n".join(s for s in sections if s) + "\n"


def _period(report: Report) -> str:
    known = [d.day for d in report.days if d.day != "unknown"]
    return f" ({known[0]} .. {known[-1]})" if known else ""


def _summary(report: Report, ascii_only: bool) -> str:
    files = report.input.files
    head = (
        f"ci-guard report: {report.runs} runs from {files} file{'s' * (files != 1)}"
        f"{_period(report)}"
    )
    if report.since:
        head += f", since {report.since}"
    statuses = "  ".join(f"{name} {count}" for name, count in report.by_status.items())
    rates = report.rates
    lines = [head, f"  {statuses}", *(f"  note: {n}" for n in report.notes)]
    if report.by_stop_reason:
        stops = "  ".join(f"{name} {count}" for name, count in report.by_stop_reason.items())
        lines.append(f"  stopped: {stops}")
    if rates.rated_runs:
        lines.append(
            f"Success rate  first try {fmt.percent(rates.first_try)}, after retries "
            f"{fmt.percent(rates.after_retries)}  ({rates.rated_runs} finished runs, "
            f"{rates.rescued_runs} rescued by a retry)"
        )
        trend = [d.success_rate for d in report.days if d.day != "unknown"]
        if len(trend) > 1:
            lines.append(f"  per day       {fmt.sparkline(trend, ascii_only=ascii_only)}")
    lines.append(more.lost_line(report.time_lost))
    return "\n".join(lines)


def _attempts(report: Report, ascii_only: bool) -> str:
    hist = report.attempts_histogram
    if not hist:
        return ""
    total = sum(hist.values())
    peak = max(hist.values())
    block = "#" if ascii_only else "█"
    rows = [
        [str(n), str(count), fmt.percent(count / total), block * round(24 * count / peak)]
        for n, count in hist.items()
    ]
    return "Attempts per finished run\n" + fmt.table(
        ["attempts", "runs", "share", ""], rows, right=(0, 1, 2)
    )


def _classes(report: Report) -> str:
    if not report.classes:
        return ""
    rows = [
        [c.name, str(c.attempts), fmt.percent(c.share), fmt.yes_no(c.retryable), str(c.final_runs)]
        for c in report.classes
    ]
    return "Failure classes (failed attempts)\n" + fmt.table(
        ["class", "attempts", "share", "retryable", "runs ended by it"], rows, right=(1, 2, 4)
    )


def _remedies(report: Report) -> str:
    if not report.remedies:
        return ""
    rows = [
        [
            r.name,
            str(r.used),
            str(r.runs),
            f"{r.succeeded_after} ({fmt.percent(r.success_share)})",
            str(r.ok) if r.reported else "-",
            str(r.changed) if r.reported else "-",
        ]
        for r in report.remedies
    ]
    return "Remedies\n" + fmt.table(
        ["remedy", "used", "runs", "run succeeded after", "ok", "changed"],
        rows,
        right=(1, 2, 3, 4, 5),
    )


def _mirrors(report: Report, ascii_only: bool) -> str:
    if not report.mirrors:
        return ""
    rows = [
        [
            m.url,
            str(m.probes),
            fmt.percent(m.healthy_share),
            fmt.latency(m.median_latency_s),
            fmt.latency(m.p95_latency_s),
            str(m.dead),
            more.last_dead(m.last_dead_at),
            m.last_verdict,
            fmt.sparkline([d.healthy_share for d in m.days], ascii_only=ascii_only),
        ]
        for m in report.mirrors
    ]
    return "Mirror health (preflight and remedy probes)\n" + fmt.table(
        ["mirror", "probes", "healthy", "median", "p95", "dead", "last dead", "last", "per day"],
        rows,
        right=(1, 2, 3, 4, 5),
    )


def _slowest(report: Report) -> str:
    if not report.slowest:
        return ""
    rows = [
        [
            s.run_id,
            (s.started_at or "-")[:19].replace("T", " "),
            fmt.duration(s.duration_s),
            str(s.attempts),
            fmt.duration(s.lost_s) if s.lost_s else "-",
            s.status,
            s.failure_class or "-",
            s.project or "-",
        ]
        for s in report.slowest
    ]
    headers = ["run", "started (UTC)", "duration", "attempts", "lost", "status", "final class"]
    table = fmt.table(
        [*headers, "project"],
        rows,
        right=(2, 3, 4),
    ).split("\n")
    lines = [table[0]]
    for row, run in zip(table[1:], report.slowest, strict=True):
        lines += [row, more.slow_detail(run)]
    return f"Slowest {len(rows)} builds\n" + "\n".join(lines)


def _input(report: Report) -> str:
    return skipped_summary(report) if report.input.skipped else ""


def skipped_summary(report: Report) -> str:
    """One line: how many log lines were left out, and why."""
    skipped = report.input.skipped
    parts = [f"{count} {SKIP_WORDS.get(reason, reason)}" for reason, count in skipped.items()]
    return f"Skipped {report.input.skipped_total} of {report.input.lines} lines: " + "; ".join(
        parts
    )
