"""Runs one by one: the per-run trend and the slowest builds, each with what explains it
(command, project, CI job link, time lost)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from ci_guard.report import lost
from ci_guard.report.figures import RunPoint, SlowRun
from ci_guard.report.mirror_stats import iso
from ci_guard.report.runs import LoggedRun

OUTCOMES = ("first_try", "rescued", "failed", "timed_out", "cancelled", "incomplete")
COMMAND_CHARS = 160


def outcome(run: LoggedRun) -> str:
    """The run's end in one word: first_try and rescued split the succeeded runs."""
    if run.status == "succeeded":
        return "first_try" if run.first_try_success else "rescued"
    return run.status if run.status in OUTCOMES else "failed"


def command_line(run: LoggedRun) -> str:
    text = shlex.join(run.command)
    return text if len(text) <= COMMAND_CHARS else text[: COMMAND_CHARS - 3] + "..."


def recent_runs(runs: Sequence[LoggedRun], count: int) -> tuple[RunPoint, ...]:
    """The last `count` runs by start (runs come sorted by start), oldest first."""
    if count <= 0:
        return ()
    return tuple(
        RunPoint(
            run_id=r.run_id,
            started_at=iso(r.start),
            duration_s=r.wall_time_s,
            attempts=r.attempt_count,
            status=r.status,
            outcome=outcome(r),
            lost_s=lost.split(r).total_s,
            failure_class=r.final_class,
            project=r.project,
        )
        for r in runs[-count:]
    )


def slowest(runs: Sequence[LoggedRun], count: int) -> tuple[SlowRun, ...]:
    if count <= 0:
        return ()
    ranked = sorted(runs, key=lambda r: (-r.wall_time_s, r.run_id))[:count]
    return tuple(
        SlowRun(
            run_id=r.run_id,
            started_at=iso(r.start),
            duration_s=r.wall_time_s,
            attempts=r.attempt_count,
            status=r.status,
            failure_class=r.final_class,
            command=command_line(r),
            project=r.project,
            ci_job_url=r.ci_job_url,
            lost_s=lost.split(r).total_s,
        )
        for r in ranked
    )
