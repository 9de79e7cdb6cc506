"""`--on-retry-command`: the user's shell command between the wait and the next attempt.

It runs like an attempt does (its own session, output passed through, a deadline, the
whole tree ended on a deadline or a stop signal), told through its environment which
attempt failed and how. A hook that fails or times out is logged and the run goes on:
it prepares a retry, it is not the build. A stop signal during it ends the run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ci_guard.config import Config
from ci_guard.records import AttemptRecord
from ci_guard.run.policy import MIN_ATTEMPT_WINDOW_S, Decision
from ci_guard.supervise.cancel import Cancelled, CancelToken
from ci_guard.supervise.supervisor import ProcessResult

SHELL = ("/bin/sh", "-c")
TAIL_LINES = 5
"""Last output lines kept in `retry.hook_failed` (the whole output went to the job log)."""


@dataclass(frozen=True)
class HookSpec:
    command: str
    timeout: float
    kill_grace: float
    env: Mapping[str, str]


def hook_env(
    base: Mapping[str, str],
    last: AttemptRecord,
    decision: Decision,
    *,
    run_id: str,
    max_attempts: int,
) -> dict[str, str]:
    """The hook's environment: the job's, plus what the failed attempt was."""
    env = dict(base)
    env.update(
        CI_GUARD_RUN_ID=run_id,
        CI_GUARD_ATTEMPT=str(last.attempt),
        CI_GUARD_NEXT_ATTEMPT=str(last.attempt + 1),
        CI_GUARD_MAX_ATTEMPTS=str(max_attempts),
        CI_GUARD_EXIT_CODE=str(last.exit_code),
        CI_GUARD_FAILURE_CLASS=last.failure.failure_class.value if last.failure else "",
        CI_GUARD_STAGE=decision.stage,
        CI_GUARD_REMEDY=decision.remedy,
    )
    return env


def spec_for(
    config: Config,
    base_env: Mapping[str, str],
    last: AttemptRecord,
    decision: Decision,
    *,
    run_id: str,
    time_left_s: float | None,
) -> HookSpec | None:
    """The hook to run before the next attempt, None without --on-retry-command; its
    deadline is cut to what --total-timeout leaves (never under the attempt minimum)."""
    if config.on_retry_command is None:
        return None
    timeout = config.on_retry_timeout
    if time_left_s is not None:
        timeout = max(MIN_ATTEMPT_WINDOW_S, min(timeout, time_left_s))
    env = hook_env(base_env, last, decision, run_id=run_id, max_attempts=config.max_attempts)
    return HookSpec(config.on_retry_command, timeout, config.kill_grace, env)


def run_hook(
    spec: HookSpec,
    attempt: int,
    *,
    supervise: Callable[..., ProcessResult],
    cancel: CancelToken,
    log: Any,
) -> ProcessResult:
    """Run the hook to its end and log how it went; Cancelled when a stop signal ended it."""
    log.info("retry.hook_started", attempt=attempt, timeout_s=round(spec.timeout, 3))
    result = supervise(
        [*SHELL, spec.command],
        env=spec.env,
        timeout=spec.timeout,
        kill_grace=spec.kill_grace,
        cancel=cancel,
        tail_lines=TAIL_LINES,
    )
    if result.cancelled_by is not None:
        raise Cancelled(result.cancelled_by)
    fields: dict[str, Any] = {
        "attempt": attempt,
        "exit_code": result.exit_code,
        "timed_out": result.timed_out,
        "duration_s": round(result.duration_s, 3),
    }
    if result.exit_code == 0 and not result.timed_out:
        log.info("retry.hook_finished", **fields)
    else:
        error = result.spawn_error or ("deadline hit" if result.timed_out else "non-zero exit")
        log.warning("retry.hook_failed", **fields, error=error, tail=list(result.tail))
    return result
