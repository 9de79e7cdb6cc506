"""Fold logged events into runs, one handler per event the report reads.

Runs are keyed by run_id so repeated or merged logs do not double-count. Each handler
keeps the event's timestamp where the time-lost split needs it (report/lost.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from ci_guard.mirrors.result import RANKED_FIELD
from ci_guard.report import fields as f
from ci_guard.report.runs import LoggedAttempt, LoggedRetry, LoggedRun

Handler = Callable[[dict[str, Any], datetime, str], None]


def parse_timestamp(text: str) -> datetime:
    """ISO 8601 -> aware UTC datetime; a naive time is taken as UTC."""
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    stamp = datetime.fromisoformat(text)
    if stamp.tzinfo is None:
        return stamp.replace(tzinfo=timezone.utc)
    return stamp.astimezone(timezone.utc)


class Assembler:
    def __init__(self) -> None:
        self.runs: dict[str, LoggedRun] = {}
        self._remedy_attempt: dict[str, int] = {}
        self.handlers: dict[str, Handler] = {
            "run.started": self._run_started,
            "preflight.finished": self._preflight_finished,
            "builder.mirrors": self._builder_mirrors,
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
        platform = f.opt_str(rec.get("ci_platform")) or ""
        project = f.masked(rec.get("project")) or ""
        job_url = f.masked(rec.get("ci_job_url"))
        run = self._run(rec, stamp, source)
        run.started_at = stamp
        run.ci_platform, run.project, run.ci_job_url = platform, project, job_url
        if isinstance(command, list):
            run.command = f.masked_argv(command)

    def _preflight_finished(self, rec: dict[str, Any], stamp: datetime, source: str) -> None:
        mirrors = rec.get("mirrors")
        ranked = mirrors.get(RANKED_FIELD) if isinstance(mirrors, dict) else None
        probes = f.probes(ranked, stamp, "preflight")
        self._run(rec, stamp, source).mirror_probes.extend(probes)

    def _builder_mirrors(self, rec: dict[str, Any], stamp: datetime, source: str) -> None:
        check = f.builder_check(rec, stamp)
        self._run(rec, stamp, source).builder_checks.append(check)

    def _attempt_started(self, rec: dict[str, Any], stamp: datetime, source: str) -> None:
        number = f.as_int(rec.get("attempt"))
        attempt = self._run(rec, stamp, source).attempts.setdefault(number, LoggedAttempt(number))
        attempt.started_at = stamp

    def _attempt_finished(self, rec: dict[str, Any], stamp: datetime, source: str) -> None:
        attempt = LoggedAttempt(
            attempt=f.as_int(rec.get("attempt")),
            exit_code=f.opt_int(rec.get("exit_code")),
            duration_s=f.as_float(rec.get("duration_s")),
            failure_class=f.opt_str(rec.get("failure_class")),
            retryable=f.opt_bool(rec.get("retryable")),
            finished=True,
        )
        run = self._run(rec, stamp, source)
        known = run.attempts.get(attempt.attempt)
        attempt.started_at = known.started_at if known is not None else None
        run.attempts[attempt.attempt] = attempt

    def _retry_scheduled(self, rec: dict[str, Any], stamp: datetime, source: str) -> None:
        number = f.as_int(rec.get("attempt"))
        delay = f.as_float(rec.get("delay_s"))
        remedy = f.opt_str(rec.get("remedy")) or "retry"
        stage = f.opt_str(rec.get("stage")) or remedy
        run = self._run(rec, stamp, source)
        known = run.retries.get(number)
        retry = LoggedRetry(number, delay, remedy, stage, scheduled_at=stamp)
        if known is not None and known.remedy == remedy:
            retry.remedy_ok, retry.remedy_changed = known.remedy_ok, known.remedy_changed
            retry.remedy_started_at = known.remedy_started_at
            retry.remedy_finished_at = known.remedy_finished_at
        run.retries[number] = retry

    def _remedy_started(self, rec: dict[str, Any], stamp: datetime, source: str) -> None:
        number = f.opt_int(rec.get("attempt"))
        run = self._run(rec, stamp, source)
        if number is None:
            return
        self._remedy_attempt[rec["run_id"]] = number
        name = f.opt_str(rec.get("remedy")) or "unknown"
        retry = self._retry_for(run, number, name)
        retry.remedy_started_at = stamp

    def _remedy_finished(self, rec: dict[str, Any], stamp: datetime, source: str) -> None:
        name = f.opt_str(rec.get("remedy")) or "unknown"
        ok, changed = f.opt_bool(rec.get("ok")), f.opt_bool(rec.get("changed"))
        run = self._run(rec, stamp, source)
        number = self._remedy_attempt.get(rec["run_id"])
        if number is None:
            number = max(run.retries, default=max(run.attempts, default=0))
        retry = self._retry_for(run, number, name)
        retry.remedy_ok, retry.remedy_changed = ok, changed
        retry.remedy_finished_at = stamp
        run.mirror_probes.extend(f.probes(rec.get("mirrors_ranked"), stamp, name))

    @staticmethod
    def _retry_for(run: LoggedRun, number: int, name: str) -> LoggedRetry:
        retry = run.retries.get(number)
        if retry is None or retry.remedy != name:
            retry = run.retries[number] = LoggedRetry(number, 0.0, name, name)
        return retry

    def _run_finished(self, rec: dict[str, Any], stamp: datetime, source: str) -> None:
        status = f.opt_str(rec.get("status")) or "failed"
        attempts = f.opt_int(rec.get("attempts"))
        exit_code = f.opt_int(rec.get("exit_code"))
        raw_duration = rec.get("duration_s")
        duration = None if raw_duration is None else f.as_float(raw_duration)
        failure_class = f.opt_str(rec.get("failure_class"))
        lost = f.logged_lost(rec)
        run = self._run(rec, stamp, source)
        run.status, run.attempts_reported, run.exit_code = status, attempts, exit_code
        run.duration_s = duration
        run.failure_class = failure_class
        run.stop_reason = f.opt_str(rec.get("stop_reason")) or ""
        run.finished_at, run.logged_lost = stamp, lost
