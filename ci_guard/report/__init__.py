"""`ci-guard report`: read many run logs and summarise them.

load (JSON lines -> runs) -> stats (runs -> Report) -> render_text / render_html / JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ci_guard.report.figures import Report
from ci_guard.report.load import load_runs
from ci_guard.report.stats import build_report


def make_report(
    logs: Sequence[str],
    *,
    now: datetime,
    since: datetime | None = None,
    slowest: int = 10,
    recent: int = 60,
) -> Report:
    """Read `logs` (files, directories, globs) and aggregate them; UsageError if unreadable."""
    loaded = load_runs(logs)
    return build_report(loaded, now=now, since=since, slowest_count=slowest, recent_count=recent)


__all__ = ["Report", "build_report", "load_runs", "make_report"]
