"""How a run ends: its status and exit code, and the fields of `run.finished`."""

from __future__ import annotations

from typing import Any

from ci_guard import exitcodes
from ci_guard import records as model
from ci_guard.records import RunRecord, StopReason, time_lost


def settle(run: RunRecord, stop: StopReason, tempfail_exit_code: int | None) -> None:
    """Status and exit code of a run whose ladder ended (the last attempt decides)."""
    last = run.attempts[-1]
    if last.failure is None:
        run.status, run.exit_code = model.STATUS_SUCCEEDED, exitcodes.SUCCESS
    elif last.timed_out:
        run.status, run.exit_code = model.STATUS_TIMED_OUT, exitcodes.TIMED_OUT
    else:
        run.status, run.exit_code = model.STATUS_FAILED, last.exit_code
    if tempfail_exit_code is not None and stop.code in model.TRANSIENT_STOPS:
        run.exit_code = tempfail_exit_code


def settle_cancelled(run: RunRecord, signum: int) -> StopReason:
    """Status and exit code of a run a stop signal ended; returns why it stopped."""
    run.status = model.STATUS_CANCELLED
    run.exit_code = exitcodes.for_signal(signum)
    return StopReason(model.STOP_CANCELLED, f"ci-guard was stopped by signal {signum}")


def finished_fields(run: RunRecord) -> dict[str, Any]:
    """The `run.finished` event (docs/log-schema.md), once `run.stop` is set."""
    assert run.stop is not None
    return {
        "status": run.status,
        "attempts": len(run.attempts),
        "exit_code": run.exit_code,
        "duration_s": run.duration_s,
        "failure_class": run.failure_class,
        **run.stop.as_log_fields(),
        **time_lost(run).as_log_fields(),
        "host_changes": [change.as_dict() for change in run.host_changes],
    }
