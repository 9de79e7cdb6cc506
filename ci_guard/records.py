"""What a run produced, as plain values: the input of every report and CI output."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ci_guard.failure import Failure

STATUS_SUCCEEDED = "succeeded"
STATUS_FAILED = "failed"
STATUS_TIMED_OUT = "timed_out"
STATUS_CANCELLED = "cancelled"

STOP_SUCCEEDED = "succeeded"
STOP_NOT_RETRYABLE = "not_retryable"
STOP_TIMEOUT_NOT_RETRIED = "timeout_not_retried"
STOP_ATTEMPTS_EXHAUSTED = "attempts_exhausted"
STOP_TOTAL_DEADLINE = "total_deadline"
STOP_CANCELLED = "cancelled"
STOP_CODES = (
    STOP_SUCCEEDED,
    STOP_NOT_RETRYABLE,
    STOP_TIMEOUT_NOT_RETRIED,
    STOP_ATTEMPTS_EXHAUSTED,
    STOP_TOTAL_DEADLINE,
    STOP_CANCELLED,
)
TRANSIENT_STOPS = frozenset({STOP_ATTEMPTS_EXHAUSTED, STOP_TOTAL_DEADLINE})
"""Stops where the failure was still worth retrying: --tempfail-exit-code applies."""


@dataclass(frozen=True)
class StopReason:
    """Why the run stopped, decided once by the run loop; every report reads it."""

    code: str
    """One of STOP_CODES: a stable word for machines (logs, metrics, JUnit)."""
    detail: str
    """One sentence for people."""

    def as_log_fields(self) -> dict[str, str]:
        return {"stop_reason": self.code, "stop_detail": self.detail}


@dataclass(frozen=True)
class RemedyResult:
    remedy: str
    ok: bool
    changed: bool
    actions: tuple[str, ...] = ()
    """What was done, or with dry-run what would be done, one short sentence each."""
    detail: str = ""
    skipped: str | None = None
    """Why nothing was attempted (missing rights, nothing to act on), when so."""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_log_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "remedy": self.remedy,
            "actions": list(self.actions),
            "changed": self.changed,
            "ok": self.ok,
        }
        if self.detail:
            fields["detail"] = self.detail
        if self.skipped:
            fields["skipped"] = self.skipped
        fields.update(self.extra)
        return fields


@dataclass(frozen=True)
class AttemptRecord:
    attempt: int
    exit_code: int
    signal: int | None
    timed_out: bool
    duration_s: float
    started_at: str
    """ISO 8601 UTC."""
    failure: Failure | None
    log_path: Path | None = None
    no_output_timed_out: bool = False
    log_error: str | None = None
    """Why log_path is missing or cut short (disk full...), if it is."""
    stalled: bool = False
    """Ended by ci-guard because a registry phase made no progress (registry-stall-timeout)."""

    @property
    def succeeded(self) -> bool:
        return self.failure is None


@dataclass(frozen=True)
class RetryRecord:
    """The decision taken after a failed attempt."""

    attempt: int
    delay_s: float
    stage: str
    remedy: str
    remedy_result: RemedyResult | None = None


@dataclass
class RunRecord:
    run_id: str
    command: tuple[str, ...]
    """Redacted argument vector."""
    started_at: str
    max_attempts: int
    attempts: list[AttemptRecord] = field(default_factory=list)
    retries: list[RetryRecord] = field(default_factory=list)
    preflight: dict[str, Any] | None = None
    status: str = STATUS_FAILED
    exit_code: int = 1
    duration_s: float = 0.0
    ci_platform: str = "none"
    log_file: Path | None = None
    stop: StopReason | None = None
    """Set when the run ends; None only while it is still running."""
    daemon_remote: dict[str, Any] | None = None
    """The daemon is not this host's to configure (another host, container...): why,
    and the way that works (the `daemon.remote` event's fields); None when it is."""

    @property
    def stop_reason(self) -> str:
        return self.stop.code if self.stop is not None else ""

    @property
    def last_failure(self) -> Failure | None:
        return self.attempts[-1].failure if self.attempts else None

    @property
    def failure_class(self) -> str | None:
        failure = self.last_failure
        return failure.failure_class.value if failure else None


class RunHooks(Protocol):
    """Callbacks a CI platform adapter (or a test) receives around each step of a run.

    `attempt_started` runs before the child is spawned and `attempt_finished` after its
    output is fully drained, so an adapter may write its own markers to stdout around
    the child's output (groups, sections, command-stopping tokens).
    """

    def run_started(self, run: RunRecord) -> None: ...

    def attempt_started(self, run: RunRecord, attempt: int) -> None: ...

    def attempt_finished(self, run: RunRecord, record: AttemptRecord) -> None: ...

    def retry_scheduled(self, run: RunRecord, retry: RetryRecord) -> None: ...

    def run_finished(self, run: RunRecord) -> None: ...


class NoHooks:
    """Hooks that do nothing: the default outside CI."""

    def run_started(self, run: RunRecord) -> None:
        pass

    def attempt_started(self, run: RunRecord, attempt: int) -> None:
        pass

    def attempt_finished(self, run: RunRecord, record: AttemptRecord) -> None:
        pass

    def retry_scheduled(self, run: RunRecord, retry: RetryRecord) -> None:
        pass

    def run_finished(self, run: RunRecord) -> None:
        pass
