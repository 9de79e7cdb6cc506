"""--on-retry-command's spec: its deadline against --total-timeout, and what its
environment tells it (the real process behaviour is in
tests/integration/test_run_retry_options.py)."""

from __future__ import annotations

import dataclasses

import pytest

from ci_guard.config import Config, resolve
from ci_guard.failure import Failure, FailureClass
from ci_guard.records import AttemptRecord
from ci_guard.run.policy import MIN_ATTEMPT_WINDOW_S, Decision
from ci_guard.run.retry_hook import spec_for

LAST = AttemptRecord(
    attempt=2,
    exit_code=100,
    signal=None,
    timed_out=False,
    duration_s=1.0,
    started_at="2026-12-01T10:00:00Z",
    failure=Failure(FailureClass.DNS_FAILURE, True, "apt-dns"),
)
DECISION = Decision(stop=False, reason="dns_failure is retryable", stage="restart-daemon",
                    remedy="retry")  # fmt: skip


@pytest.fixture(scope="module")
def config() -> Config:
    base = resolve({}, env={}, config_path=None, cwd=None).config
    return dataclasses.replace(base, on_retry_command="make clean", on_retry_timeout=300.0)


@pytest.mark.parametrize(
    ("time_left", "expected"),
    [(None, 300.0), (1000.0, 300.0), (42.0, 42.0), (0.2, MIN_ATTEMPT_WINDOW_S)],
)
def test_the_hook_deadline_is_cut_to_the_time_left(
    config: Config, time_left: float | None, expected: float
) -> None:
    spec = spec_for(config, {}, LAST, DECISION, run_id="r1", time_left_s=time_left)
    assert spec is not None
    assert spec.timeout == expected
    assert spec.kill_grace == config.kill_grace


def test_no_spec_without_a_command(config: Config) -> None:
    off = dataclasses.replace(config, on_retry_command=None)
    assert spec_for(off, {}, LAST, DECISION, run_id="r1", time_left_s=None) is None


def test_the_environment_describes_the_failed_attempt(config: Config) -> None:
    base = {"PATH": "/usr/bin", "CI_GUARD_ATTEMPT": "stale"}
    spec = spec_for(config, base, LAST, DECISION, run_id="r1", time_left_s=None)
    assert spec is not None
    assert spec.command == "make clean"
    assert {k: v for k, v in spec.env.items() if k != "PATH"} == {
        "CI_GUARD_RUN_ID": "r1",
        "CI_GUARD_ATTEMPT": "2",
        "CI_GUARD_NEXT_ATTEMPT": "3",
        "CI_GUARD_MAX_ATTEMPTS": str(config.max_attempts),
        "CI_GUARD_EXIT_CODE": "100",
        "CI_GUARD_FAILURE_CLASS": "dns_failure",
        "CI_GUARD_STAGE": "restart-daemon",
        "CI_GUARD_REMEDY": "retry",
    }
    assert spec.env["PATH"] == "/usr/bin"
    assert base["CI_GUARD_ATTEMPT"] == "stale"  # the job's environment is not changed
