"""The report as one self-contained HTML page: inline CSS and SVG, no script, no fetch.

The page opens from a file (a CI artifact) with no network: every chart is SVG drawn
by ci_guard.report.svg, every colour and font is in the page itself.
"""

from __future__ import annotations

from html import escape
from string import Template

from ci_guard.report import fmt
from ci_guard.report import html_tables as tables
from ci_guard.report.figures import Report
from ci_guard.report.html_charts import (
    BLUE,
    GREEN,
    RED,
    attempts_chart,
    classes_chart,
    lost_split_chart,
    mirror_chart,
    runs_chart,
    success_chart,
    time_chart,
)
from ci_guard.report.render_text import SKIP_WORDS

STATUS_COLORS = tables.STATUS_COLORS

PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ci-guard report</title>
<style>
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f1f3f5; color: #212529;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 28px 24px 40px; }
header h1 { margin: 0; font-size: 26px; letter-spacing: -0.01em; }
header p { margin: 4px 0 0; color: #495057; }
.kpis { display: grid; grid-template-columns: repeat(5, 1fr); gap: 14px; margin: 22px 0; }
.kpi { background: #fff; border-radius: 12px; padding: 16px 18px;
  box-shadow: 0 1px 3px rgba(0,0,0,.08); border-top: 4px solid var(--accent); }
.kpi .value { font-size: 30px; font-weight: 700; color: var(--accent); }
.kpi .label { color: #495057; font-weight: 600; }
.kpi .sub { color: #868e96; font-size: 12px; }
.card { background: #fff; border-radius: 12px; padding: 18px 20px 14px; margin-bottom: 16px;
  box-shadow: 0 1px 3px rgba(0,0,0,.08); }
.card h2 { margin: 0 0 2px; font-size: 17px; }
.card .hint { margin: 0 0 10px; color: #868e96; font-size: 12.5px; }
.row { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.row .card { margin-bottom: 16px; }
.empty { color: #868e96; padding: 24px 0; text-align: center; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #e9ecef; }
th { color: #495057; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
td.num, th.num { text-align: right; }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, monospace; }
code.cmd { display: inline-block; max-width: 420px; overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; vertical-align: bottom; }
a code { color: #1c7ed6; }
.pill { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff;
  font-size: 12px; font-weight: 600; }
.scale { display: flex; align-items: center; gap: 6px; color: #868e96; font-size: 12px; }
.scale span.sw { width: 22px; height: 10px; border-radius: 2px; display: inline-block; }
footer { color: #868e96; font-size: 12.5px; margin-top: 8px; }
@media (max-width: 900px) { .row { grid-template-columns: 1fr; }
  .kpis { grid-template-columns: repeat(2, 1fr); } }
</style>
</head>
<body>
<main>
$header
$kpis
$body
$footer
</main>
</body>
</html>
""")


def render_html(report: Report) -> str:
    return PAGE.substitute(
        header=_header(report),
        kpis=_kpis(report),
        body="\n".join(_body(report)),
        footer=_footer(report),
    )


def _body(report: Report) -> list[str]:
    body = [
        _card(
            "Success rate per day",
            "Share of finished runs that succeeded on the first attempt and in the end.",
            success_chart(report),
        ),
        _card(
            f"Last {len(report.recent_runs)} runs, one bar each",
            "Oldest first: height is the run's duration, colour its outcome, the dark foot "
            "the time it lost to failed attempts, waits and remedies. Hover for details.",
            runs_chart(report),
            "runs",
        ),
        '<div class="row">',
        _card(
            "Attempts per run",
            "Finished runs by the number of attempts they needed.",
            attempts_chart(report),
        ),
        _card(
            "Failure classes",
            "Failed attempts by class; red ones are not retryable.",
            classes_chart(report),
        ),
        "</div>",
        '<div class="row">',
        _card(
            "Where the time lost went",
            "All runs: failed attempts, waits between attempts (backoff), remedies.",
            lost_split_chart(report),
            "time-lost",
        ),
        _card(
            "Remedies",
            "How often each ladder stage ran, and whether the run then succeeded.",
            tables.remedy_table(report),
        ),
        "</div>",
        _card(
            "Time lost per day",
            "Failed attempts, waits and remedies, stacked.",
            time_chart(report),
        ),
        _card(
            "Mirror health",
            "Probes per mirror and day (preflight, and remedies that re-ranked the mirrors): "
            "share answering as a registry mirror; latency of the probes it answered.",
            mirror_chart(report) + tables.mirror_table(report),
            "mirrors",
        ),
    ]
    if report.builder:
        body.append(
            _card(
                "Builder after mirror reloads",
                "builder.mirrors per day: whether the daemon's BuildKit took the new list.",
                tables.builder_table(report),
            )
        )
    body.append(
        _card(
            "Slowest builds",
            "Runs by wall-clock time, waits included; the run id links to its CI job.",
            tables.slowest_table(report),
            "slowest",
        )
    )
    return body


def _card(title: str, hint: str, content: str, anchor: str = "") -> str:
    """A titled card; `anchor` gives it an id to link to (report.html#mirrors)."""
    ident = f' id="{anchor}"' if anchor else ""
    return (
        f'<section class="card"{ident}><h2>{escape(title)}</h2><p class="hint">'
        f"{escape(hint)}</p>{content}</section>"
    )


def _header(report: Report) -> str:
    known = [d.day for d in report.days if d.day != "unknown"]
    period = f"{known[0]} to {known[-1]}" if known else "no runs"
    since = f" &middot; since {escape(report.since)}" if report.since else ""
    return (
        f"<header><h1>ci-guard report</h1><p>{report.runs} runs &middot; {escape(period)}"
        f"{since} &middot; {report.input.files} log files &middot; generated "
        f"{escape(report.generated_at[:19].replace('T', ' '))} UTC</p></header>"
    )


def _kpi(label: str, value: str, sub: str, accent: str) -> str:
    return (
        f'<div class="kpi" style="--accent:{accent}"><div class="label">{escape(label)}</div>'
        f'<div class="value">{escape(value)}</div><div class="sub">{escape(sub)}</div></div>'
    )


def _kpis(report: Report) -> str:
    rates, lost, status = report.rates, report.time_lost, report.by_status
    unfinished = status.get("incomplete", 0)
    cards = [
        _kpi("Runs", str(report.runs), f"{rates.rated_runs} finished, not cancelled", "#495057"),
        _kpi("First-try success", fmt.percent(rates.first_try), "no retry needed", BLUE),
        _kpi(
            "Success after retries",
            fmt.percent(rates.after_retries),
            f"{rates.rescued_runs} runs rescued by a retry",
            GREEN,
        ),
        _kpi("Time lost", fmt.duration(lost.total_s), _lost_sub(report), RED),
        _kpi(
            "Incomplete",
            str(unfinished),
            f"no run.finished line; {status.get('cancelled', 0)} cancelled",
            STATUS_COLORS["incomplete"],
        ),
    ]
    return f'<section class="kpis">{"".join(cards)}</section>'


def _lost_sub(report: Report) -> str:
    lost = report.time_lost
    if lost.total_s <= 0:
        return f"in {lost.runs_with_retries} runs that retried"
    parts = [
        ("waits", lost.waits_s),
        ("attempts", lost.failed_attempts_s),
        ("remedies", lost.remedies_s),
    ]
    parts.sort(key=lambda p: -p[1])
    return " · ".join(f"{name} {fmt.percent(sec / lost.total_s, 0)}" for name, sec in parts)


def _footer(report: Report) -> str:
    skipped = report.input.skipped
    parts = [f"Read {report.input.lines} lines from {report.input.files} files."]
    if skipped:
        detail = "; ".join(f"{n} {SKIP_WORDS.get(k, k)}" for k, n in skipped.items())
        parts.append(f"Skipped {report.input.skipped_total}: {detail}.")
    parts.extend(report.notes)
    parts.append(
        "Rates count finished runs only and leave cancelled runs out; incomplete runs "
        "have no run.finished line."
    )
    return f"<footer>{escape(' '.join(parts))}</footer>"
