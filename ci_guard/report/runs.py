"""Runs as read back from JSON-lines logs: plain values, the input of report statistics.

These are deliberately looser than ci_guard.records.RunRecord: a log may be cut short,
lack events or come from an older ci-guard, so most fields may be missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

STATUS_INCOMPLETE = "incomplete"
"""A run whose log has no run.finished line (killed runner, log cut short, still running)."""


@dataclass
class LoggedAttempt:
    attempt: int
    exit_code: int | None = None
    duration_s: float = 0.0
    failure_class: str | None = None
    retryable: bool | None = None
    finished: bool = False
    started_at: datetime | None = None
    """attempt.started's timestamp: the end of the wait before it."""

    @property
    def failed(self) -> bool:
        """The build failed: the run loop classifies every failed attempt. An attempt that
        a stop signal ended (exit 128+N, no class) is not a build failure, nor time lost
        to retries."""
        return self.finished and self.failure_class is not None


@dataclass
class LoggedRetry:
    """A retry.scheduled line, joined with its remedy.finished line when there is one."""

    attempt: int
    delay_s: float
    remedy: str
    stage: str = ""
    remedy_ok: bool | None = None
    remedy_changed: bool | None = None
    scheduled_at: datetime | None = None
    remedy_started_at: datetime | None = None
    remedy_finished_at: datetime | None = None


@dataclass(frozen=True)
class MirrorProbe:
    at: datetime
    url: str
    healthy: bool
    verdict: str
    latency_s: float | None
    source: str = "preflight"
    """preflight (preflight.finished, with latency) or the remedy that re-ranked them."""


@dataclass(frozen=True)
class BuilderCheck:
    """A builder.mirrors line: did the daemon's BuildKit take a reloaded mirror list."""

    at: datetime
    source: str
    decision: str
    ok: bool | None
    probe_outcome: str | None
    probe_s: float | None


@dataclass(frozen=True)
class LoggedLost:
    """run.finished's own split of the time lost, when the writer logged it."""

    attempts_s: float | None
    waits_s: float | None
    remedies_s: float | None


@dataclass
class LoggedRun:
    run_id: str
    source: str
    started_at: datetime | None = None
    status: str = STATUS_INCOMPLETE
    exit_code: int | None = None
    duration_s: float | None = None
    attempts_reported: int | None = None
    failure_class: str | None = None
    stop_reason: str = ""
    """run.finished's stop_reason; empty for an unfinished run or an older ci-guard's log."""
    ci_platform: str = ""
    command: tuple[str, ...] = ()
    project: str = ""
    ci_job_url: str | None = None
    finished_at: datetime | None = None
    logged_lost: LoggedLost | None = None
    attempts: dict[int, LoggedAttempt] = field(default_factory=dict)
    retries: dict[int, LoggedRetry] = field(default_factory=dict)
    mirror_probes: list[MirrorProbe] = field(default_factory=list)
    builder_checks: list[BuilderCheck] = field(default_factory=list)
    first_seen: datetime | None = None
    last_seen: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status != STATUS_INCOMPLETE

    @property
    def start(self) -> datetime | None:
        return self.started_at or self.first_seen

    @property
    def attempt_count(self) -> int:
        if self.attempts_reported is not None:
            return self.attempts_reported
        return len(self.attempts)

    @property
    def first_try_success(self) -> bool:
        return self.status == "succeeded" and self.attempt_count == 1

    @property
    def final_class(self) -> str | None:
        if self.failure_class is not None or self.finished:
            return self.failure_class
        finished = [a for a in self.attempts.values() if a.finished]
        return max(finished, key=lambda a: a.attempt).failure_class if finished else None

    @property
    def wall_time_s(self) -> float:
        """run.finished's duration, else what the log shows: attempts plus waits."""
        if self.duration_s is not None:
            return self.duration_s
        spent = sum(a.duration_s for a in self.attempts.values())
        return spent + sum(r.delay_s for r in self.retries.values())


@dataclass
class LoadResult:
    runs: list[LoggedRun]
    files: list[str]
    lines: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    """Lines left out, by reason: not_json, not_an_event, bad_fields, unreadable_tail."""
    other_events: int = 0
    """ci-guard events the report does not read (kept out of `skipped`: they are fine)."""

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())
