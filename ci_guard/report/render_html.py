"""The report as one self-contained HTML page: inline CSS and SVG, no script, no fetch.

The page opens from a file (a CI artifact) with no network: every chart is SVG drawn
by ci_guard.report.svg, every colour and font is in the page itself.
"""

from __future__ import annotations

from html import escape
from string import Template

from ci_guard.report import fmt
from ci_guard.report.figures import Report
from ci_guard.report.html_charts import (
    BLUE,
    GREEN,
    GREY,
    RED,
    attempts_chart,
    classes_chart,
    empty_placeholder,
    mirror_chart,
    success_chart,
    time_chart,
)
from ci_guard.report.render_text import SKIP_WORDS

STATUS_COLORS = {
    "succeeded": GREEN,
    "failed": RED,
    "timed_out": "#d9480f",
    "cancelled": GREY,
    "incomplete": "#845ef7",
}

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
    body = [
        _card(
            "Success rate per day",
            "Share of finished runs that succeeded on the first attempt and in the end.",
            success_chart(report),
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
        _card(
            "Time lost to retries",
            "Per day: failed attempts plus waits between attempts.",
            time_chart(report),
        ),
        _card(
            "Mirror health",
            "Preflight probes per mirror and day: share answering as a "
            "registry mirror, median latency.",
            mirror_chart(report),
        ),
        '<div class="row">',
        _card(
            "Remedies",
            "How often each ladder stage ran, and whether the run then succeeded.",
            _remedy_table(report),
        ),
        _card("Slowest builds", "Runs by wall-clock time, waits included.", _slowest_table(report)),
        "</div>",
    ]
    return PAGE.substitute(
        header=_header(report),
        kpis=_kpis(report),
        body="\n".join(body),
        footer=_footer(report),
    )


def _card(title: str, hint: str, content: str) -> str:
    return (
        f'<section class="card"><h2>{escape(title)}</h2><p class="hint">{escape(hint)}</p>'
        f"{content}</section>"
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
        _kpi(
            "Time lost",
            fmt.duration(lost.total_s),
            f"in {lost.runs_with_retries} runs that retried",
            RED,
        ),
        _kpi(
            "Incomplete",
            str(unfinished),
            f"no run.finished line; {status.get('cancelled', 0)} cancelled",
            STATUS_COLORS["incomplete"],
        ),
    ]
    return f'<section class="kpis">{"".join(cards)}</section>'


def _pill(status: str) -> str:
    color = STATUS_COLORS.get(status, GREY)
    return f'<span class="pill" style="background:{color}">{escape(status)}</span>'


def _table(headers: list[str], rows: list[list[str]], numeric: set[int]) -> str:
    def cell(tag: str, index: int, text: str) -> str:
        cls = ' class="num"' if index in numeric else ""
        return f"<{tag}{cls}>{text}</{tag}>"

    head = "".join(cell("th", i, escape(h)) for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(cell("td", i, text) for i, text in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _remedy_table(report: Report) -> str:
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
    return _table(
        ["remedy", "used", "runs", "succeeded after", "ok / changed"], rows, numeric={1, 2, 3, 4}
    )


def _slowest_table(report: Report) -> str:
    if not report.slowest:
        return empty_placeholder("no runs")
    rows = [
        [
            f"<code>{escape(s.run_id)}</code>",
            fmt.duration(s.duration_s),
            str(s.attempts),
            _pill(s.status),
            escape(s.failure_class or "-"),
        ]
        for s in report.slowest
    ]
    return _table(["run", "duration", "attempts", "status", "final class"], rows, numeric={1, 2})


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
