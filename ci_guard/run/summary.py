"""The short human summary printed at the end of a run.

Read from the run record alone (a pure function): the outcome, what the failures cost,
what ci-guard changed on the host, which remedies failed and why, what to do next,
and which outputs were not written. Every text in the record is masked already.
A run that succeeded at once and changed nothing gets one or two lines.
"""

from __future__ import annotations

import re
from collections import Counter

from ci_guard.ci.changes import failed_remedies, host_change_line
from ci_guard.ci.common import clean_line
from ci_guard.durations import human_duration as format_duration
from ci_guard.failure import NO_MATCH_RULE, FailureClass, class_table
from ci_guard.records import (
    STATUS_CANCELLED,
    STATUS_SUCCEEDED,
    STOP_SUCCEEDED,
    OutputFailure,
    RetryRecord,
    RunRecord,
    time_lost,
)
from ci_guard.run.policy import PLAIN_RETRY

FAILURE_CLASSES_DOC = "ci-guard help failure-classes"
ADVICE_CHARS = 160
"""A "what to do" line longer than this is cut at a clause, else at a word."""
REASON_CHARS = 200
SHOWN_S = 0.05
"""Time lost below this shows as 0.0s: not worth a line."""
_ERRNO = re.compile(r"\[Errno \d+\] ")


def unrecognised_lines(run: RunRecord) -> list[str]:
    """What to do about failures no rule recognised: see why, add a rule, report it."""
    unknown = [a for a in run.attempts if a.failure and a.failure.rule == NO_MATCH_RULE]
    if not unknown:
        return []
    last = unknown[-1]
    log = last.log_path or "ATTEMPT.log"
    return [
        f"  not recognised: no rule matched attempt {last.attempt}'s output"
        f" ({_what_followed(run, last.attempt)})",
        f"    see why: ci-guard classify --explain {log}",
        f"    add a rule (rules-file) or report the output: {FAILURE_CLASSES_DOC}",
    ]


def _what_followed(run: RunRecord, attempt: int) -> str:
    """What the run did after that attempt: its retry, else why it stopped there."""
    retry = next((r for r in run.retries if r.attempt == attempt), None)
    if retry is not None and retry.remedy == PLAIN_RETRY:
        return "retried plainly, no daemon restart or network repair"
    if retry is not None:
        return f"retried after {retry.remedy}"
    if run.stop is not None and run.stop.code != STOP_SUCCEEDED:
        return f"not retried: {run.stop.detail}"
    return "not retried"


def one_line(text: str, limit: int) -> str:
    """`text` on one line of at most `limit` characters: cut after the last whole clause
    that fits when that keeps most of it, else at a word, marked with an ellipsis."""
    line = " ".join(clean_line(text, limit=10 * limit).split())
    if len(line) <= limit:
        return line
    head = line[: limit - 1]
    clause = max(head.rfind("; "), head.rfind(". "))
    if clause >= limit // 2:
        return head[:clause].rstrip(".;") + "."
    word = head.rfind(" ")
    return (head[:word] if word >= limit // 2 else head).rstrip(" ,;") + "\u2026"


def _head(run: RunRecord) -> str:
    attempts = len(run.attempts)
    head = f"ci-guard: {run.status}"
    if run.status == STATUS_SUCCEEDED:
        head += f" on attempt {attempts}/{run.max_attempts}"
    else:
        head += f" after {attempts} attempt{'s' if attempts != 1 else ''}, exit {run.exit_code}"
    return head + f" in {format_duration(run.duration_s)}"


def _failures(run: RunRecord) -> list[str]:
    classes = Counter(a.failure.failure_class.value for a in run.attempts if a.failure)
    if not classes:
        return []
    listed = ", ".join(f"{name} x{count}" for name, count in classes.most_common())
    return [f"  failures: {listed}"]


def _time_lost(run: RunRecord) -> list[str]:
    """Only what the retries really cost: one failed attempt and no retry lost nothing."""
    lost = time_lost(run)
    if not run.retries or lost.total_s < SHOWN_S:
        return []
    parts = [
        ("failed attempts", lost.attempts_s),
        ("waits", lost.waits_s),
        ("remedies", lost.remedies_s),
    ]
    split = ", ".join(f"{name} {format_duration(s)}" for name, s in parts if s >= SHOWN_S)
    return [f"  time lost to retries: {format_duration(lost.total_s)} ({split})"]


def _remedy_state(retries: list[RetryRecord]) -> str:
    """`NAME`, `NAME x3`, with `(failed)`, `(1 failed)`, `(no result)`: cancelled or missing."""
    results = [r.remedy_result for r in retries]
    counts = {
        "failed": sum(1 for result in results if result is not None and not result.ok),
        "no result": results.count(None),
    }
    whole = len(retries)
    notes = [word if n == whole else f"{n} {word}" for word, n in counts.items() if n]
    name = retries[0].remedy + (f" x{whole}" if whole > 1 else "")
    return f"{name} ({', '.join(notes)})" if notes else name


def _remedies(run: RunRecord) -> list[str]:
    """Remedies run, then one line for each failed one (the same reason once) with why."""
    ran = [r for r in run.retries if r.remedy != PLAIN_RETRY]
    if not ran:
        return []
    by_name: dict[str, list[RetryRecord]] = {}
    for retry in ran:
        by_name.setdefault(retry.remedy, []).append(retry)
    lines = [f"  remedies: {', '.join(_remedy_state(group) for group in by_name.values())}"]
    lines += [f"    {f.line(one_line(f.why, REASON_CHARS))}" for f in failed_remedies(run)]
    return lines


def _host_changes(run: RunRecord) -> list[str]:
    lines = [host_change_line(change) for change in run.host_changes]
    if len(lines) == 1:
        return [f"  changed on the host: {lines[0]}"]
    return ["  changed on the host:", *(f"    {line}" for line in lines)] if lines else []


def _cause(run: RunRecord) -> list[str]:
    """For a run that failed: why it stopped, the last failure, and what to do about it."""
    if run.status == STATUS_SUCCEEDED:
        return []
    lines = [f"  stopped: {run.stop.detail}"] if run.stop is not None else []
    last = run.last_failure
    if last is None:
        return lines
    lines.append(f"  last failure: {last.failure_class.value} (rule {last.rule})")
    lines.extend(f"    > {line}" for line in last.evidence[:3])
    if last.failure_class is FailureClass.UNKNOWN and last.rule != NO_MATCH_RULE and last.why:
        lines.append(f"  why: {one_line(last.why, ADVICE_CHARS)}")  # known, if unclassed
    if run.status != STATUS_CANCELLED and last.failure_class is not FailureClass.UNKNOWN:
        advice = class_table()[last.failure_class].advice
        lines.append(f"  what to do: {one_line(advice, ADVICE_CHARS)}")
    return lines


def _reason(failed: OutputFailure) -> str:
    """The reason without the target it repeats (`cannot write X: Not a directory`)."""
    reason, target = failed.reason, failed.target
    if target and f"{target}: " in reason:
        reason = reason.rsplit(f"{target}: ", 1)[1]
    elif target and reason.startswith(f"{target} "):
        reason = reason[len(target) + 1 :]
    return one_line(_ERRNO.sub("", reason), REASON_CHARS)


def _outputs(run: RunRecord) -> list[str]:
    """Outputs asked for and not written, each with its reason, on one line."""
    listed = [
        f"{f'{failed.output} {failed.target}'.strip()}: {_reason(failed)}"
        for failed in run.output_failures
    ]
    return [f"  outputs not written: {'; '.join(listed)}"] if listed else []


def render_summary(run: RunRecord) -> str:
    """A few lines: outcome, failures and time lost, remedies, host changes, cause, logs."""
    lines = [_head(run)]
    lines += _failures(run)
    lines += _time_lost(run)
    lines += _remedies(run)
    lines += _host_changes(run)
    lines += _cause(run)
    lines += unrecognised_lines(run)
    lines += _outputs(run)
    if run.log_file is not None:
        cut = any(f.output == OutputFailure.LOG_FILE for f in run.output_failures)
        lines.append(f"  log: {run.log_file}" + (" (incomplete)" if cut else ""))
    return "\n".join(lines)
