"""Read ci-guard JSON-lines logs back into runs, tolerating everything a real log holds.

A log file may hold several runs (appended), lines of other tools, a truncated last
line or plain garbage. Such lines are skipped and counted by reason, never fatal.
Only input that cannot be read at all (a missing file, a directory without logs) is
a usage error.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ci_guard.errors import UsageError
from ci_guard.mirrors.result import RANKED_FIELD
from ci_guard.redact import Redactor
from ci_guard.registry.probe import HEALTHY, SLOW
from ci_guard.report.inputs import expand_inputs, read_lines
from ci_guard.report.runs import (
    LoadResult,
    LoggedAttempt,
    LoggedRetry,
    LoggedRun,
    MirrorProbe,
)

HEALTHY_VERDICTS = frozenset({HEALTHY, SLOW})
"""Mirror probe verdicts that mean "this mirror serves" (a slow one still does); misbehaving
and dead ones do not."""

SKIP_NOT_JSON = "not_json"
SKIP_NOT_EVENT = "not_an_event"
SKIP_BAD_FIELDS = "bad_fields"


@functools.cache
def _redactor() -> Redactor:
    return Redactor()


class _BadFieldError(ValueError):
    """A ci-guard event whose fields have the wrong type; the line is skipped."""


# --- inputs -----------------------------------------------------------------------------


# --- lines ------------------------------------------------------------------------------


def parse_timestamp(text: str) -> datetime:
    """ISO 8601 -> aware UTC datetime; a naive time is taken as UTC."""
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    stamp = datetime.fromisoformat(text)
    if stamp.tzinfo is None:
        return stamp.replace(tzinfo=timezone.utc)
    return stamp.astimezone(timezone.utc)


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


# --- field coercion ---------------------------------------------------------------------


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _BadFieldError(f"expected an integer, got {value!r}")
    return value


def _opt_int(value: Any) -> int | None:
    return None if value is None else _int(value)


def _float(value: Any, default: float = 0.0) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _BadFieldError(f"expected a number, got {value!r}")
    return float(value)


def _opt_str(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _BadFieldError(f"expected a string, got {value!r}")
    return value


def _opt_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


# --- assembling runs --------------------------------------------------------------------


class _Assembler:
    """Folds events into runs, keyed by run_id so repeated or merged logs do not double-count."""

    def __init__(self) -> None:
        self.runs: dict[str, LoggedRun] = {}
        self._remedy_attempt: dict[str, int] = {}
        self.handlers: dict[str, Callable[[dict[str, Any], datetime, str], None]] = {
            "run.started": self._run_started,
            "preflight.finished": self._preflight_finished,
            "attempt.started": self._attempt_started,
            "attempt.finished": self._attempt_finished,
            "retry.scheduled": self._retry_scheduled,
            "remedy.started": self._remedy_started,
            "remedy.finished": self._remedy_finished,
            "run.finished": self._run_finished,
        }

    def feed(self, record: dict[str, Any], source: str) -> bool:
        """Apply one event; False when it is not one the report reads."""
        handler = self.handlers.get(record["event"])
        if handler is None:
            return False
        stamp = parse_timestamp(record["timestamp"])
        handler(record, stamp, source)
        return True

    def _run(self, record: dict[str, Any], stamp: datetime, source: str) -> LoggedRun:
        run = self.runs.get(record["run_id"])
        if run is None:
            run = self.runs[record["run_id"]] = LoggedRun(record["run_id"], source)
        if run.first_seen is None or stamp < run.first_seen:
            run.first_seen = stamp
        if run.last_seen is None or stamp > run.last_seen:
            run.last_seen = stamp
        return run

    def _run_started(self, rec: dict[str, Any], stamp: datetime, source: str) -> None:
        command = rec.get("command")
        platform = _opt_str(rec.get("ci_platform")) or ""
        run = self._run(rec, stamp, source)
        run.started_at = stamp
        run.ci_platform = platform
        if isinstance(command, list):
            # Logs written before masking covered a shape must not carry it into a report.
            run.command = tuple(_redactor().argv(str(part) for part in command))

    def _preflight_finished(self, rec: dict[str, Any], stamp: datetime, source: str) -> None:
        mirrors = rec.get("mirrors")
        ranked = mirrors.get(RANKED_FIELD) if isinstance(mirrors, dict) else None
        probes = [_probe(c, stamp) for c in ranked or () if isinstance(c, dict)]
        self._run(rec, stamp, source).mirror_probes.extend(p for p in probes if p is not None)

    def _attempt_started(self, rec: dict[str, Any], stamp: datetime, source: str) -> None:
        number = _int(rec.get("attempt"))
        self._run(rec, stamp, source).attempts.setdefault(number, LoggedAttempt(number))

    def _attempt_finished(self, rec: dict[str, Any], stamp: datetime, source: str) -> None:
        attempt = LoggedAttempt(
            attempt=_int(rec.get("attempt")),
            exit_code=_opt_int(rec.get("exit_code")),
            duration_s=_float(rec.get("duration_s")),
            failure_class=_opt_str(rec.get("failure_class")),
            retryable=_opt_bool(rec.get("retryable")),
            finished=True,
        )
        self._run(rec, stamp, source).attempts[attempt.attempt] = attempt

    def _retry_scheduled(self, rec: dict[str, Any], stamp: datetime, source: str) -> None:
        number = _int(rec.get("attempt"))
        delay = _float(rec.get("delay_s"))
        remedy = _opt_str(rec.get("remedy")) or "retry"
        stage = _opt_str(rec.get("stage")) or remedy
        run = self._run(rec, stamp, source)
        known = run.retries.get(number)
        retry = LoggedRetry(number, delay, remedy, stage)
        if known is not None and known.remedy == remedy:
            retry.remedy_ok, retry.remedy_changed = known.remedy_ok, known.remedy_changed
        run.retries[number] = retry

    def _remedy_started(self, rec: dict[str, Any], stamp: datetime, source: str) -> None:
        number = _opt_int(rec.get("attempt"))
        self._run(rec, stamp, source)
        if number is not None:
            self._remedy_attempt[rec["run_id"]] = number

    def _remedy_finished(self, rec: dict[str, Any], stamp: datetime, source: str) -> None:
        name = _opt_str(rec.get("remedy")) or "unknown"
        ok, changed = _opt_bool(rec.get("ok")), _opt_bool(rec.get("changed"))
        run = self._run(rec, stamp, source)
        number = self._remedy_attempt.get(rec["run_id"])
        if number is None:
            number = max(run.retries, default=max(run.attempts, default=0))
        retry = run.retries.get(number)
        if retry is None or retry.remedy != name:
            retry = run.retries[number] = LoggedRetry(number, 0.0, name, name)
        retry.remedy_ok, retry.remedy_changed = ok, changed

    def _run_finished(self, rec: dict[str, Any], stamp: datetime, source: str) -> None:
        status = _opt_str(rec.get("status")) or "failed"
        attempts = _opt_int(rec.get("attempts"))
        exit_code = _opt_int(rec.get("exit_code"))
        raw_duration = rec.get("duration_s")
        duration = None if raw_duration is None else _float(raw_duration)
        failure_class = _opt_str(rec.get("failure_class"))
        run = self._run(rec, stamp, source)
        run.status, run.attempts_reported, run.exit_code = status, attempts, exit_code
        run.duration_s = duration
        run.failure_class = failure_class
        run.stop_reason = _opt_str(rec.get("stop_reason")) or ""


def _probe(candidate: dict[str, Any], stamp: datetime) -> MirrorProbe | None:
    url = candidate.get("url")
    if not isinstance(url, str) or not url:
        return None
    verdict = str(candidate.get("verdict") or "unknown")
    healthy = verdict.lower() in HEALTHY_VERDICTS
    latency = candidate.get("latency_s")
    if isinstance(latency, bool) or not isinstance(latency, (int, float)):
        latency = None
    return MirrorProbe(stamp, url, healthy, verdict, None if latency is None else float(latency))


# --- entry point ------------------------------------------------------------------------


def load_runs(specs: Sequence[str]) -> LoadResult:
    """Read every log named by `specs`; raises UsageError only when input cannot be read."""
    if not specs:
        raise UsageError("no log given: name one or more files, directories or globs")
    files = expand_inputs(specs)
    result = LoadResult(runs=[], files=[str(f) for f in files])
    assembler = _Assembler()
    for path in files:
        _load_file(path, assembler, result)
    result.runs = sorted(assembler.runs.values(), key=_run_order)
    return result


def load_lines(lines: Iterable[str], source: str = "-") -> LoadResult:
    """Runs from lines already in memory (tests, stdin)."""
    result = LoadResult(runs=[], files=[source])
    assembler = _Assembler()
    _fold(lines, source, assembler, result)
    result.runs = sorted(assembler.runs.values(), key=_run_order)
    return result


def _load_file(path: Path, assembler: _Assembler, result: LoadResult) -> None:
    _fold(read_lines(path, result.skipped), str(path), assembler, result)


def _fold(lines: Iterable[str], source: str, assembler: _Assembler, result: LoadResult) -> None:
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
        except (_BadFieldError, ValueError, TypeError):
            skipped[SKIP_BAD_FIELDS] = skipped.get(SKIP_BAD_FIELDS, 0) + 1


def _run_order(run: LoggedRun) -> tuple[datetime, str]:
    start = run.start or datetime.min.replace(tzinfo=timezone.utc)
    return (start, run.run_id)
