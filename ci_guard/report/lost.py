"""Time one run lost to failures, split into failed attempts, waits and remedies.

When run.finished carries its own split (`lost_attempts_s`, `lost_waits_s`,
`lost_remedies_s`) each logged part is taken as is. Otherwise the parts come from the
per-attempt and per-retry events:

- failed attempts: `attempt.finished.duration_s` of every classified failure that another
  attempt was to follow (a `retry.scheduled` after it), as the run summary counts them: a
  run's last failure is its result, not time lost to retries; an attempt a stop signal
  ended is no build failure;
- remedies: from `remedy.started` to `remedy.finished`; a remedy a cancel interrupted
  counts until the run's last line;
- waits: `retry.scheduled.delay_s`, which the run waits in full before its next
  attempt starts. A wait with no next attempt (a cancel, a killed runner) counts what
  the log shows really elapsed: from its start (the remedy's end, else the retry line)
  to the run's last line, never more than the delay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ci_guard.report.runs import LoggedRetry, LoggedRun


@dataclass(frozen=True)
class LostSplit:
    attempts_s: float
    waits_s: float
    remedies_s: float
    cut_waits: int = 0
    """Waits a cancel or a killed runner cut short (counted as far as they went)."""
    logged: bool = False
    """True when run.finished gave at least one part itself."""

    @property
    def total_s(self) -> float:
        return self.attempts_s + self.waits_s + self.remedies_s


def _seconds(start: datetime | None, end: datetime | None) -> float:
    if start is None or end is None:
        return 0.0
    return max((end - start).total_seconds(), 0.0)


def failed_attempts_s(run: LoggedRun) -> float:
    return sum(a.duration_s for n, a in run.attempts.items() if a.failed and n in run.retries)


def remedy_s(run: LoggedRun, retry: LoggedRetry) -> float:
    if retry.remedy_started_at is None:
        return 0.0
    end = retry.remedy_finished_at or run.last_seen
    return _seconds(retry.remedy_started_at, end)


def wait_s(run: LoggedRun, retry: LoggedRetry) -> tuple[float, bool]:
    """(seconds waited, whether the wait was cut short)."""
    following = run.attempts.get(retry.attempt + 1)
    if following is not None or retry.scheduled_at is None:
        return retry.delay_s, False  # the loop only starts the next attempt after the wait
    start = retry.remedy_finished_at or retry.scheduled_at
    if retry.remedy_started_at is not None and retry.remedy_finished_at is None:
        return 0.0, retry.delay_s > 0  # stopped during the remedy: the wait never began
    waited = min(_seconds(start, run.last_seen), retry.delay_s)
    return waited, waited < retry.delay_s


def from_events(run: LoggedRun) -> LostSplit:
    waits, cut = 0.0, 0
    for retry in run.retries.values():
        seconds, short = wait_s(run, retry)
        waits += seconds
        cut += short
    remedies = sum(remedy_s(run, r) for r in run.retries.values())
    return LostSplit(failed_attempts_s(run), waits, remedies, cut)


def split(run: LoggedRun) -> LostSplit:
    computed = from_events(run)
    logged = run.logged_lost
    if logged is None:
        return computed

    def pick(value: float | None, fallback: float) -> float:
        return fallback if value is None else value

    return LostSplit(
        attempts_s=pick(logged.attempts_s, computed.attempts_s),
        waits_s=pick(logged.waits_s, computed.waits_s),
        remedies_s=pick(logged.remedies_s, computed.remedies_s),
        cut_waits=computed.cut_waits,
        logged=True,
    )
