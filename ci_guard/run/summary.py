"""The short human summary printed at the end of a run."""

from __future__ import annotations

from collections import Counter

from ci_guard.durations import human_duration as format_duration
from ci_guard.failure import FailureClass
from ci_guard.records import STATUS_SUCCEEDED, AttemptRecord, RunRecord

FAILURE_CLASSES_DOC = "ci-guard help failure-classes"


def unrecognised_lines(attempts: list[AttemptRecord]) -> list[str]:
    """What to do about failures no rule recognised: see why, add a rule, report it."""
    unknown = [a for a in attempts if a.failure and a.failure.failure_class is FailureClass.UNKNOWN]
    if not unknown:
        return []
    log = unknown[-1].log_path or "ATTEMPT.log"
    return [
        f"  not recognised: no rule matched attempt {unknown[-1].attempt}'s output"
        " (retried plainly, no daemon restart or network repair)",
        f"    see why: ci-guard classify --explain {log}",
        f"    add a rule (rules-file) or report the output: {FAILURE_CLASSES_DOC}",
    ]


def render_summary(run: RunRecord) -> str:
    """A few lines: outcome, attempts with their classes, time lost to retries, logs."""
    attempts = len(run.attempts)
    failed = [a for a in run.attempts if a.failure is not None]
    classes = Counter(a.failure.failure_class.value for a in failed if a.failure)
    lost = sum(a.duration_s for a in failed) + sum(r.delay_s for r in run.retries)
    head = f"ci-guard: {run.status}"
    if run.status == STATUS_SUCCEEDED:
        head += f" on attempt {attempts}/{run.max_attempts}"
    else:
        head += f" after {attempts} attempt{'s' if attempts != 1 else ''}, exit {run.exit_code}"
    head += f" in {format_duration(run.duration_s)}"
    lines = [head]
    if classes:
        listed = ", ".join(f"{name} x{count}" for name, count in classes.most_common())
        lines.append(f"  failures: {listed}; time lost to retries: {format_duration(lost)}")
    remedies = [r.remedy for r in run.retries if r.remedy != "retry"]
    if remedies:
        lines.append(f"  remedies: {', '.join(remedies)}")
    if run.stop is not None and run.status != STATUS_SUCCEEDED:
        lines.append(f"  stopped: {run.stop.detail}")
    last = run.last_failure
    if last is not None and run.status != STATUS_SUCCEEDED:
        lines.append(f"  last failure: {last.failure_class.value} (rule {last.rule})")
        lines.extend(f"    > {line}" for line in last.evidence[:3])
    lines.extend(unrecognised_lines(run.attempts))
    if run.log_file is not None:
        lines.append(f"  log: {run.log_file}")
    return "\n".join(lines)
