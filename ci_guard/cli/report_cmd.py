"""`ci-guard report LOG...`: success rates, retries, failure classes and mirror health."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from ci_guard import logs as logs_mod
from ci_guard.atomic import atomic_write_text
from ci_guard.errors import UsageError
from ci_guard.report import make_report
from ci_guard.report.period import parse_since
from ci_guard.report.render_html import render_html
from ci_guard.report.render_text import render_text, skipped_summary


@click.command("report")
@click.argument("logs", nargs=-1, required=True, metavar="LOG...")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a self-contained HTML page with charts to PATH.",
)
@click.option(
    "--since",
    metavar="DATE|AGE",
    help="Only runs started at or after DATE (2026-11-01, 2026-11-01T12:00Z) or in the last "
    "AGE, a duration (36h, 7d, 1h30m, 2w)  [default: every run]",
)
@click.option(
    "--slowest",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    metavar="N",
    help="How many of the slowest builds to list.",
)
@click.option(
    "--runs",
    "recent",
    type=click.IntRange(min=0),
    default=60,
    show_default=True,
    metavar="N",
    help="How many of the latest runs the per-run trend shows.",
)
def command(
    logs: tuple[str, ...],
    *,
    as_json: bool,
    html_path: Path | None,
    since: str | None,
    slowest: int,
    recent: int,
) -> None:
    """Summarise ci-guard JSON-lines logs (files, directories or globs).

    Lines of other tools, garbage and truncated lines are skipped and counted.

    \b
    Examples: ci-guard report logs/ --since 7d
              ci-guard report 'logs/*.jsonl' --json --html report.html
    Exit:     0 done, 2 a LOG cannot be read or a directory holds no logs
              (ci-guard help exit-codes)
    More:     ci-guard help report
    """
    now = datetime.now(timezone.utc)
    since_at = parse_since(since, now=now) if since else None
    report = make_report(list(logs), now=now, since=since_at, slowest=slowest, recent=recent)
    if report.input.skipped_total:
        logs_mod.warn(skipped_summary(report).replace("Skipped", "skipped", 1))
    if html_path is not None:
        _write_html(render_html(report), html_path)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        encoding = (getattr(sys.stdout, "encoding", None) or "ascii").lower()
        click.echo(render_text(report, ascii_only=not encoding.startswith("utf")), nl=False)
    if html_path is not None:
        click.echo(f"ci-guard: HTML report written to {html_path}", err=True)


def _write_html(text: str, path: Path) -> None:
    try:
        atomic_write_text(path, text, mode=0o644)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
