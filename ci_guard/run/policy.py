"""Decide what follows a failed attempt: stop, or wait and apply a remedy.

A pure function of (attempt number, failure, exit code, config, time left, backoff):
no clock, no randomness, no side effects; the runner feeds it through tenacity.
--retry-on narrows (or widens) what is retried; --retry-wait fixes the wait.

The ladder names one stage per attempt: the stage for attempt n is ladder[n-1] (the
last entry repeats). That stage is the most the ladder allows before attempt n; the
remedy used is the strongest stage allowed so far that fits the failure class (its
row in data/classes.toml), else a plain retry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ci_guard.config import Config
from ci_guard.errors import UsageError
from ci_guard.failure import Failure, FailureClass, class_table
from ci_guard.records import (
    STOP_ATTEMPTS_EXHAUSTED,
    STOP_NOT_IN_RETRY_ON,
    STOP_NOT_RETRYABLE,
    STOP_TIMEOUT_NOT_RETRIED,
    STOP_TOTAL_DEADLINE,
    StopReason,
)
from ci_guard.retry_on import parse_retry_on

PLAIN_RETRY = "retry"
FREE_DISK = "free-disk"
MIN_ATTEMPT_WINDOW_S = 1.0
"""An attempt is not started with less time than this left before the total deadline."""


@dataclass(frozen=True)
class Decision:
    stop: bool
    reason: str
    delay_s: float = 0.0
    stage: str = ""
    remedy: str = ""
    code: str = ""
    """When `stop`: the records.STOP_* code, kept in the run record as its StopReason."""

    def stop_reason(self) -> StopReason:
        return StopReason(self.code, self.reason)


def _stop(code: str, reason: str) -> Decision:
    return Decision(stop=True, reason=reason, code=code)


def validate_ladder(ladder: Sequence[str], known: Sequence[str]) -> tuple[str, ...]:
    unknown = [stage for stage in ladder if stage not in known]
    if unknown:
        raise UsageError(f"ladder: unknown stage {unknown[0]!r} (known: {', '.join(known)})")
    if not ladder:
        raise UsageError("ladder: needs at least one stage")
    return tuple(ladder)


def stage_for(attempt: int, ladder: Sequence[str]) -> str:
    """The ladder stage of attempt `attempt` (1-based); the last stage repeats."""
    return ladder[min(attempt, len(ladder)) - 1]


def pick_remedy(attempt: int, failure: Failure, config: Config) -> str:
    """The strongest remedy the ladder allows before `attempt` that fits the failure."""
    if failure.failure_class is FailureClass.DISK_FULL and config.free_disk:
        return FREE_DISK
    if failure.failure_class is FailureClass.UNKNOWN:
        return PLAIN_RETRY  # nothing says the daemon or the network is at fault
    fitting = class_table()[failure.failure_class].remedies
    allowed = config.ladder[: min(attempt, len(config.ladder))]
    for stage in reversed(allowed):
        if stage in fitting:
            return stage
    return PLAIN_RETRY


def retry_verdict(
    failure: Failure, config: Config, exit_code: int | None = None
) -> tuple[str, str]:
    """('', why) when a retry may help, else (the STOP_* code, why not).

    --no-retry-on-timeout and --no-retry-unknown stop first; then a --retry-on list, when
    given, decides alone: what it names is retried (a class ci-guard deems not retryable
    included: the user's choice wins), anything else stops."""
    cls = failure.failure_class
    if cls is FailureClass.TIMEOUT and not config.retry_on_timeout:
        reason = "the attempt hit its deadline and --no-retry-on-timeout is set"
        return STOP_TIMEOUT_NOT_RETRIED, reason
    if cls is FailureClass.UNKNOWN and failure.retryable and not config.retry_unknown:
        return STOP_NOT_RETRYABLE, "no rule recognised the failure and --no-retry-unknown is set"
    if config.retry_on:
        return _chosen_verdict(failure, config, exit_code)
    if cls is FailureClass.DISK_FULL and config.free_disk:
        return "", "disk_full is retried because the free-disk remedy is enabled"
    if not failure.retryable:
        return STOP_NOT_RETRYABLE, f"{cls.value} is not retryable: a retry cannot fix it"
    return "", f"{cls.value} is retryable"


def _chosen_verdict(failure: Failure, config: Config, exit_code: int | None) -> tuple[str, str]:
    cls = failure.failure_class
    entry = parse_retry_on(config.retry_on).match(cls, exit_code)
    if not entry:
        what = cls.value if exit_code is None else f"{cls.value} (exit {exit_code})"
        chosen = ",".join(config.retry_on)
        return STOP_NOT_IN_RETRY_ON, f"{what} is not in --retry-on ({chosen})"
    if failure.retryable or (cls is FailureClass.DISK_FULL and config.free_disk):
        return "", f"{cls.value} is retryable and --retry-on names it ({entry})"
    why = f"{cls.value} is retried because --retry-on names it ({entry})"
    return "", why + ", though ci-guard deems it not retryable"


def wait_before_retry(failure: Failure, config: Config, backoff_s: float) -> float:
    """The wait before the retry: --retry-wait when set, else the backoff; at least
    --rate-limit-backoff after rate_limited (a registry's limit does not reset sooner)."""
    delay = config.retry_wait if config.retry_wait is not None else backoff_s
    if failure.failure_class is FailureClass.RATE_LIMITED:
        delay = max(delay, config.rate_limit_backoff)
    return delay


def decide(
    attempt: int,
    failure: Failure,
    config: Config,
    *,
    time_left_s: float | None,
    backoff_s: float,
    exit_code: int | None = None,
) -> Decision:
    """What to do after failed attempt `attempt` (which exited with `exit_code`).

    `backoff_s` is the exponential, jittered wait for this retry (computed by the
    caller's wait strategy); --retry-wait replaces it (wait_before_retry).
    """
    code, why = retry_verdict(failure, config, exit_code)
    if code:
        return _stop(code, why)
    if attempt >= config.max_attempts:
        reason = f"attempts exhausted ({attempt}/{config.max_attempts})"
        return _stop(STOP_ATTEMPTS_EXHAUSTED, reason)
    delay = wait_before_retry(failure, config, backoff_s)
    if time_left_s is not None:
        if time_left_s - MIN_ATTEMPT_WINDOW_S <= 0:
            return _stop(STOP_TOTAL_DEADLINE, "the total deadline (--total-timeout) has passed")
        delay = min(delay, max(0.0, time_left_s - MIN_ATTEMPT_WINDOW_S))
    next_attempt = attempt + 1
    stage = stage_for(next_attempt, config.ladder)
    remedy = pick_remedy(next_attempt, failure, config)
    return Decision(
        stop=False,
        reason=why,
        delay_s=round(delay, 3),
        stage=stage,
        remedy=remedy,
    )


def rate_limit_hint() -> str:
    return (
        "Docker Hub rate limit hit: `docker login` raises the pull limit, and a pull-through "
        "mirror (`ci-guard mirrors apply`) has a limit of its own"
    )
