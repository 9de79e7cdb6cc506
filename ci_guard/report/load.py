"""Read ci-guard JSON-lines logs back into runs, tolerating everything a real log holds.

A log file may hold several runs (appended), lines of other tools, a truncated last
line or plain garbage. Such lines are skipped and counted by reason, never fatal.
Only input that cannot be read at all (a missing file, a directory without logs) is
a usage error.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ci_guard.errors import UsageError
from ci_guard.report.assemble import Assembler, parse_timestamp
from ci_guard.report.fields import HEALTHY_VERDICTS, BadFieldError
from ci_guard.report.inputs import expand_inputs, read_lines
from ci_guard.report.runs import LoadResult, LoggedRun

SKIP_NOT_JSON = "not_json"
SKIP_NOT_EVENT = "not_an_event"
SKIP_BAD_FIELDS = "bad_fields"

__all__ = ["HEALTHY_VERDICTS", "load_lines", "load_runs", "parse_line", "parse_timestamp"]


def parse_line(line: str) -> dict[str, Any] | str:
    """The event of one log line, or the reason to skip it."""
    text = line.strip()
    if not text.startswith("{"):
        return SKIP_NOT_JSON
    try:
        record = json.loads(text)
    except ValueError:
        return SKIP_NOT_JSON
    if not isinstance(record, dict):
        return SKIP_NOT_JSON
    event, run_id, stamp = record.get("event"), record.get("run_id"), record.get("timestamp")
    if not (isinstance(event, str) and isinstance(run_id, str) and isinstance(stamp, str)):
        return SKIP_NOT_EVENT
    if not run_id:
        return SKIP_NOT_EVENT
    return record


# --- entry point ------------------------------------------------------------------------


def load_runs(specs: Sequence[str]) -> LoadResult:
    """Read every log named by `specs`; raises UsageError only when input cannot be read."""
    if not specs:
        raise UsageError("no log given: name one or more files, directories or globs")
    files = expand_inputs(specs)
    result = LoadResult(runs=[], files=[str(f) for f in files])
    assembler = Assembler()
    for path in files:
        _load_file(path, assembler, result)
    result.runs = sorted(assembler.runs.values(), key=_run_order)
    return result


def load_lines(lines: Iterable[str], source: str = "-") -> LoadResult:
    """Runs from lines already in memory (tests, stdin)."""
    result = LoadResult(runs=[], files=[source])
    assembler = Assembler()
    _fold(lines, source, assembler, result)
    result.runs = sorted(assembler.runs.values(), key=_run_order)
    return result


def _load_file(path: Path, assembler: Assembler, result: LoadResult) -> None:
    _fold(read_lines(path, result.skipped), str(path), assembler, result)


def _fold(lines: Iterable[str], source: str, assembler: Assembler, result: LoadResult) -> None:
    skipped = result.skipped
    for line in lines:
        if not line.strip():
            continue
        result.lines += 1
        parsed = parse_line(line)
        if isinstance(parsed, str):
            skipped[parsed] = skipped.get(parsed, 0) + 1
            continue
        try:
            if not assembler.feed(parsed, source):
                result.other_events += 1
        except (BadFieldError, ValueError, TypeError):
            skipped[SKIP_BAD_FIELDS] = skipped.get(SKIP_BAD_FIELDS, 0) + 1


def _run_order(run: LoggedRun) -> tuple[datetime, str]:
    start = run.start or datetime.min.replace(tzinfo=timezone.utc)
    return (start, run.run_id)
