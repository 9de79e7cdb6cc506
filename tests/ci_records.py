"""RunRecord values for driving the CI hooks and the JUnit writer in tests."""

from __future__ import annotations

from pathlib import Path

from ci_guard.failure import Failure, FailureClass
from ci_guard.records import (
    STATUS_FAILED,
    STATUS_SUCCEEDED,
    STOP_ATTEMPTS_EXHAUSTED,
    STOP_NOT_RETRYABLE,
    STOP_SUCCEEDED,
    AttemptRecord,
    RetryRecord,
    RunRecord,
    StopReason,
)

TIMEOUT_FAILURE = Failure(
    FailureClass.REGISTRY_TIMEOUT,
    retryable=True,
    rule="registry_timeout.client_timeout",
    evidence=(
        'Get "https://registry-1.docker.io/v2/": net/http: request canceled '
        "(Client.Timeout exceeded while awaiting headers)",
    ),
    why="the registry did not answer in time",
)
NOT_FOUND_FAILURE = Failure(
    FailureClass.IMAGE_NOT_FOUND,
    retryable=False,
    rule="image_not_found.manifest_unknown",
    evidence=("manifest for busybox:nope not found: manifest unknown",),
)


def new_run(command: tuple[str, ...] = ("docker", "compose", "build"), **kw: object) -> RunRecord:
    run = RunRecord(
        run_id="20250101T000000Z-abc123",
        command=command,
        started_at="2025-01-01T00:00:00.123456Z",
        max_attempts=3,
        ci_platform="github",
    )
    for key, value in kw.items():
        setattr(run, key, value)
    return run


def attempt(
    number: int,
    failure: Failure | None,
    *,
    exit_code: int | None = None,
    log_path: Path | None = None,
    timed_out: bool = False,
) -> AttemptRecord:
    return AttemptRecord(
        attempt=number,
        exit_code=(0 if failure is None else 1) if exit_code is None else exit_code,
        signal=None,
        timed_out=timed_out,
        duration_s=1.5 * number,
        started_at="2025-01-01T00:00:01Z",
        failure=failure,
        log_path=log_path,
    )


def retry(number: int, delay: float = 5.0, remedy: str = "retry") -> RetryRecord:
    return RetryRecord(attempt=number, delay_s=delay, stage=remedy, remedy=remedy)


def finish(run: RunRecord, *, exit_code: int | None = None) -> RunRecord:
    last = run.attempts[-1]
    run.status = STATUS_SUCCEEDED if last.failure is None else STATUS_FAILED
    run.exit_code = last.exit_code if exit_code is None else exit_code
    run.duration_s = sum(a.duration_s for a in run.attempts)
    run.stop = _stop_of(run)
    return run


def _stop_of(run: RunRecord) -> StopReason:
    """The stop reason the run loop records for such a run (test_runner checks the loop)."""
    last = run.attempts[-1]
    if last.failure is None:
        return StopReason(STOP_SUCCEEDED, f"attempt {last.attempt} succeeded")
    if not last.failure.retryable:
        return StopReason(
            STOP_NOT_RETRYABLE, f"{last.failure.failure_class.value} is not retryable"
        )
    return StopReason(
        STOP_ATTEMPTS_EXHAUSTED, f"attempts exhausted ({last.attempt}/{run.max_attempts})"
    )
