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
STOP_NOT_IN_RETRY_ON = "not_in_retry_on"
STOP_TIMEOUT_NOT_RETRIED = "timeout_not_retried"
STOP_ATTEMPTS_EXHAUSTED = "attempts_exhausted"
STOP_TOTAL_DEADLINE = "total_deadline"
STOP_CANCELLED = "cancelled"
STOP_CODES = (
    STOP_SUCCEEDED,
    STOP_NOT_RETRYABLE,
    STOP_NOT_IN_RETRY_ON,
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
class HostChange:
    """One change ci-guard made on the host: daemon.json, the daemon, sysctl, disk..."""

    what: str
    """What changed: `daemon.json`, `daemon`, `sysctl`, `disk`, `networks`, `resolver`."""
    detail: str
    """One sentence: what was done (paths, mirrors removed and added, backup)."""
    source: str = ""
    """Who changed it: `preflight`, or `REMEDY after attempt N`."""
    rolled_back: bool = False
    """The change was undone (a reload the daemon did not take, say)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "detail": self.detail,
            "source": self.source,
            "rolled_back": self.rolled_back,
        }

    @classmethod
    def from_dict(cls, data: Any) -> HostChange | None:
        """The change a log field holds, or None for one that is not a change."""
        if not isinstance(data, dict) or not data.get("what"):
            return None
        return cls(
            what=str(data["what"]),
            detail=str(data.get("detail") or ""),
            source=str(data.get("source") or ""),
            rolled_back=bool(data.get("rolled_back")),
        )


@dataclass(frozen=True)
class OutputFailure:
    """An output the run asked for and could not write (JUnit, metrics, a CI file)."""

    LOG_FILE = "log-file"
    """`output` of a JSON log file that stopped taking lines: it is incomplete."""

    output: str
    target: str
    reason: str


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
    changes: tuple[HostChange, ...] = ()
    """What it changed on the host, as data (empty with dry-run)."""

    @property
    def why_failed(self) -> str:
        """Why a failed remedy failed, in its own words."""
        return self.skipped or self.detail or "no reason given"

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
        if self.changes:
            fields["host_changes"] = [change.as_dict() for change in self.changes]
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
    cancelled: bool = False
    """Stopped because ci-guard itself was stopped (a signal): no failure, no success."""

    @property
    def succeeded(self) -> bool:
        return self.failure is None and not self.cancelled


@dataclass(frozen=True)
class RetryRecord:
    """The decision taken after a failed attempt."""

    attempt: int
    delay_s: float
    stage: str
    remedy: str
    remedy_result: RemedyResult | None = None
    remedy_s: float = 0.0
    """How long the remedy really ran (0 for a plain retry)."""
    waited_s: float = 0.0
    """How long the run really waited (delay_s is the plan: a stop signal cuts it short)."""


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
    project: str = ""
    """The CI repository, compose project or work tree name (ci/context.py)."""
    project_source: str = ""
    ci_job_url: str | None = None
    log_file: Path | None = None
    stop: StopReason | None = None
    """Set when the run ends; None only while it is still running."""
    host_changes: list[HostChange] = field(default_factory=list)
    """What preflight and the remedies changed on the host, in order (secrets masked)."""
    output_failures: list[OutputFailure] = field(default_factory=list)
    """Outputs not written (JUnit, metrics file, Pushgateway, CI files), reasons masked."""
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


@dataclass(frozen=True)
class TimeLost:
    """Time a run lost to retries, from what really happened (not from the plan)."""

    attempts_s: float
    """Failed attempts that another attempt followed (one failed attempt loses nothing)."""
    waits_s: float
    """Waits between attempts, as long as they really lasted."""
    remedies_s: float
    """Remedies between attempts, as long as they really ran."""

    @property
    def total_s(self) -> float:
        return self.attempts_s + self.waits_s + self.remedies_s

    def as_log_fields(self) -> dict[str, float]:
        return {
            "lost_attempts_s": round(float(self.attempts_s), 3),
            "lost_waits_s": round(float(self.waits_s), 3),
            "lost_remedies_s": round(float(self.remedies_s), 3),
        }


def time_lost(run: RunRecord) -> TimeLost:
    """What the retries cost `run`: see TimeLost."""
    return TimeLost(
        attempts_s=sum(a.duration_s for a in run.attempts[:-1] if a.failure is not None),
        waits_s=sum(r.waited_s for r in run.retries),
        remedies_s=sum(r.remedy_s for r in run.retries),
    )


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
