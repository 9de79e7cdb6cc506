"""The tables of the HTML report: remedies, slowest builds, mirrors, builder checks."""

from __future__ import annotations

from html import escape

from ci_guard.report import fmt
from ci_guard.report.figures import Report, SlowRun
from ci_guard.report.html_charts import GREEN, GREY, RED, empty_placeholder

STATUS_COLORS = {
    "succeeded": GREEN,
    "failed": RED,
    "timed_out": "#d9480f",
    "cancelled": GREY,
    "incomplete": "#845ef7",
}
LINK_SCHEMES = ("https://", "http://")


def pill(status: str) -> str:
    color = STATUS_COLORS.get(status, GREY)
    return f'<span class="pill" style="background:{color}">{escape(status)}</span>'


def table(headers: list[str], rows: list[list[str]], numeric: set[int]) -> str:
    def cell(tag: str, index: int, text: str) -> str:
        cls = ' class="num"' if index in numeric else ""
        return f"<{tag}{cls}>{text}</{tag}>"

    head = "".join(cell("th", i, escape(h)) for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(cell("td", i, text) for i, text in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def remedy_table(report: Report) -> str:
    if not report.remedies:
        return empty_placeholder("no retries")
    rows = [
        [
            f"<code>{escape(r.name)}</code>",
            str(r.used),
            str(r.runs),
            f"{r.succeeded_after} ({fmt.percent(r.success_share, 0)})",
            f"{r.ok} / {r.changed}" if r.reported else "-",
        ]
        for r in report.remedies
    ]
    return table(
        ["remedy", "used", "runs", "succeeded after", "ok / changed"], rows, numeric={1, 2, 3, 4}
    )


def run_link(run_id: str, url: str | None) -> str:
    """The run id, linked to its CI job when the log named one (http(s) only)."""
    code = f"<code>{escape(run_id)}</code>"
    if url and url.startswith(LINK_SCHEMES):
        return f'<a href="{escape(url, quote=True)}" rel="noopener">{code}</a>'
    return code


def _slow_cells(s: SlowRun) -> list[str]:
    return [
        run_link(s.run_id, s.ci_job_url),
        escape(s.project or "-"),
        f'<code class="cmd">{escape(s.command or "-")}</code>',
        fmt.duration(s.duration_s),
        fmt.duration(s.lost_s) if s.lost_s else "-",
        str(s.attempts),
        pill(s.status),
        escape(s.failure_class or "-"),
    ]


def slowest_table(report: Report) -> str:
    if not report.slowest:
        return empty_placeholder("no runs")
    return table(
        ["run", "project", "command", "duration", "lost", "attempts", "status", "final class"],
        [_slow_cells(s) for s in report.slowest],
        numeric={3, 4, 5},
    )


def mirror_table(report: Report) -> str:
    if not report.mirrors:
        return ""
    rows = [
        [
            f"<code>{escape(m.url)}</code>",
            str(m.probes),
            fmt.percent(m.healthy_share, 0),
            fmt.latency(m.median_latency_s),
            fmt.latency(m.p95_latency_s),
            str(m.dead),
            escape((m.last_dead_at or "never")[:16].replace("T", " ")),
            escape(m.last_verdict),
        ]
        for m in report.mirrors[:20]
    ]
    return table(
        ["mirror", "probes", "healthy", "median", "p95", "dead", "last dead (UTC)", "last verdict"],
        rows,
        numeric={1, 2, 3, 4, 5},
    )


def builder_table(report: Report) -> str:
    if not report.builder:
        return empty_placeholder("no builder.mirrors lines: no SIGHUP reload changed the mirrors")
    rows = [
        [
            escape(d.day),
            str(d.checks),
            str(d.ok),
            escape(", ".join(f"{name} {count}" for name, count in d.decisions.items())),
            fmt.latency(d.median_probe_s),
        ]
        for d in report.builder
    ]
    return table(["day", "checks", "ok", "decisions", "median probe"], rows, numeric={1, 2, 4})
