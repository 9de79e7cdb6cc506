"""What every platform adapter reports: the run's outputs and its failure in words."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from ci_guard.failure import Failure
from ci_guard.records import STATUS_CANCELLED, STATUS_SUCCEEDED, AttemptRecord, RunRecord

MAX_EVIDENCE_LINES = 5
MAX_LINE_CHARS = 300
DEFAULT_ARTIFACTS_DIR = ".ci-guard"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def run_outputs(run: RunRecord) -> dict[str, str]:
    """The outputs a CI step exposes: attempts, exit-code, failure-class, stop-reason, log-file."""
    return {
        "attempts": str(len(run.attempts)),
        "exit-code": str(run.exit_code),
        "failure-class": (run.failure_class or "") if run.status != STATUS_SUCCEEDED else "",
        "stop-reason": run.stop_reason,
        "log-file": str(run.log_file) if run.log_file else "",
    }


def clean_line(text: str, limit: int = MAX_LINE_CHARS) -> str:
    """One printable line: colour codes and control characters out, length capped."""
    line = _CONTROL.sub(" ", _ANSI.sub("", text)).strip()
    return line if len(line) <= limit else line[: limit - 1] + "\u2026"


def evidence_lines(failure: Failure | None) -> list[str]:
    if failure is None:
        return []
    lines = [clean_line(line) for line in failure.evidence[:MAX_EVIDENCE_LINES]]
    return [line for line in lines if line]


def command_text(run: RunRecord, limit: int = 120) -> str:
    return clean_line(" ".join(run.command), limit)


def attempt_header(run: RunRecord, attempt: int) -> str:
    return f"ci-guard attempt {attempt}/{run.max_attempts}: {command_text(run)}"


def attempt_verdict(record: AttemptRecord) -> str:
    """'passed', 'failed: CLASS (exit N)' with the deadline when it was hit, or 'stopped'."""
    if record.cancelled:
        return f"stopped with ci-guard (exit {record.exit_code})"
    if record.failure is None:
        return "passed"
    how = "timed out" if record.timed_out else f"exit {record.exit_code}"
    if record.signal is not None and not record.timed_out:
        how = f"signal {record.signal}"
    return f"failed: {record.failure.failure_class.value} ({how})"


def final_message(run: RunRecord) -> str:
    """Why the run failed, in one sentence (no evidence), from the stop reason it recorded."""
    count = len(run.attempts)
    plural = "s" if count != 1 else ""
    if run.status == STATUS_CANCELLED:
        return f"ci-guard: cancelled during attempt {count} (exit {run.exit_code})"
    failure = run.last_failure
    if failure is None or run.stop is None:
        return f"ci-guard: {run.status} after {count} attempt{plural} (exit {run.exit_code})"
    text = (
        f"ci-guard: {failure.failure_class.value} (exit {run.exit_code}) after "
        f"{count} attempt{plural}; stopped: {run.stop.detail}"
    )
    return f"{text}; {clean_line(failure.why)}" if failure.why else text


def artifacts_dir(env: Mapping[str, str], given: Path | None) -> Path:
    if given is not None:
        return given
    return Path(env.get("CI_GUARD_ARTIFACTS_DIR") or DEFAULT_ARTIFACTS_DIR)


def emit(stream: TextIO, text: str) -> None:
    """Write and flush at once: the child's bytes go to the same descriptor unbuffered."""
    stream.write(text)
    stream.flush()
