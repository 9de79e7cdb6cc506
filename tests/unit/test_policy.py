from __future__ import annotations

import dataclasses

import pytest

from ci_guard.config import Config, resolve
from ci_guard.errors import UsageError
from ci_guard.failure import Failure, FailureClass, class_table
from ci_guard.remedies import known_stages
from ci_guard.run.policy import decide, pick_remedy, stage_for, validate_ladder


@pytest.fixture
def config() -> Config:
    return resolve({}, env={}, config_path=None, cwd=None).config


def failure(cls: FailureClass) -> Failure:
    return Failure(cls, class_table()[cls].retryable, "test-rule", ("evidence",))


def test_default_ladder_matches_the_seed_practice(config: Config) -> None:
    stages = [stage_for(n, config.ladder) for n in range(1, 8)]
    assert stages == [
        "retry",
        "retry",
        "restart-daemon",
        "repair-network",
        "repair-network",
        "repair-network",
        "repair-network",
    ]


@pytest.mark.parametrize(
    ("cls", "attempt", "expected"),
    [
        (FailureClass.REGISTRY_TIMEOUT, 1, "retry"),
        (FailureClass.REGISTRY_TIMEOUT, 2, "retry"),
        # attempt 3's stage is restart-daemon: it fits a registry timeout (BuildKit keeps
        # the mirrors the daemon started with, a restart gives it the current list)
        (FailureClass.REGISTRY_TIMEOUT, 3, "restart-daemon"),
        (FailureClass.REGISTRY_TIMEOUT, 4, "repair-network"),
        (FailureClass.DAEMON_UNREACHABLE, 2, "retry"),
        (FailureClass.DAEMON_UNREACHABLE, 3, "restart-daemon"),
        # the ladder allows restart-daemon by attempt 5 and it is the fitting remedy
        (FailureClass.DAEMON_UNREACHABLE, 5, "restart-daemon"),
        (FailureClass.STEP_NETWORK_FAILURE, 5, "retry"),
        (FailureClass.UNKNOWN, 4, "retry"),
    ],
)
def test_remedy_is_the_strongest_allowed_stage_that_fits(
    config: Config, cls: FailureClass, attempt: int, expected: str
) -> None:
    assert pick_remedy(attempt, failure(cls), config) == expected


@pytest.mark.parametrize(
    "cls",
    [c for c, info in class_table().items() if not info.retryable],
)
def test_permanent_classes_stop_at_once(config: Config, cls: FailureClass) -> None:
    decision = decide(1, failure(cls), config, time_left_s=None, backoff_s=1.0)
    assert decision.stop
    assert "not retryable" in decision.reason


def test_retryable_until_attempts_run_out(config: Config) -> None:
    f = failure(FailureClass.REGISTRY_TIMEOUT)
    for attempt in range(1, config.max_attempts):
        decision = decide(attempt, f, config, time_left_s=None, backoff_s=2.0)
        assert not decision.stop
        assert decision.delay_s == 2.0
        assert decision.stage == stage_for(attempt + 1, config.ladder)
    last = decide(config.max_attempts, f, config, time_left_s=None, backoff_s=2.0)
    assert last.stop
    assert "exhausted" in last.reason


def test_rate_limited_waits_long(config: Config) -> None:
    decision = decide(1, failure(FailureClass.RATE_LIMITED), config, time_left_s=None, backoff_s=3)
    assert decision.delay_s == config.rate_limit_backoff


def test_wait_never_passes_the_total_deadline(config: Config) -> None:
    f = failure(FailureClass.REGISTRY_TIMEOUT)
    decision = decide(1, f, config, time_left_s=11.0, backoff_s=60.0)
    assert not decision.stop
    assert decision.delay_s == 10.0
    assert decide(1, f, config, time_left_s=0.5, backoff_s=1.0).stop


def test_timeout_retry_switch(config: Config) -> None:
    f = failure(FailureClass.TIMEOUT)
    assert not decide(1, f, config, time_left_s=None, backoff_s=0).stop
    off = dataclasses.replace(config, retry_on_timeout=False)
    assert decide(1, f, off, time_left_s=None, backoff_s=0).stop


def test_disk_full_needs_free_disk(config: Config) -> None:
    f = failure(FailureClass.DISK_FULL)
    assert decide(1, f, config, time_left_s=None, backoff_s=0).stop
    on = dataclasses.replace(config, free_disk=True)
    decision = decide(1, f, on, time_left_s=None, backoff_s=0)
    assert not decision.stop
    assert decision.remedy == "free-disk"


def test_ladder_validation() -> None:
    assert validate_ladder(["retry", "restart-daemon"], known_stages()) == (
        "retry",
        "restart-daemon",
    )
    with pytest.raises(UsageError, match="unknown stage 'reboot'"):
        validate_ladder(["retry", "reboot"], known_stages())


@pytest.mark.parametrize(
    "ladder", [("restart-daemon",), ("repair-network",), ("retry", "repair-network")]
)
def test_unknown_never_gets_a_daemon_restart_or_network_repair(
    config: Config, ladder: tuple[str, ...]
) -> None:
    custom = dataclasses.replace(config, ladder=ladder, max_attempts=9)
    for attempt in range(1, 8):
        decision = decide(
            attempt, failure(FailureClass.UNKNOWN), custom, time_left_s=None, backoff_s=0
        )
        assert not decision.stop
        assert decision.remedy == "retry"


def test_retry_unknown_is_a_setting() -> None:
    off = resolve({}, env={"CI_GUARD_RETRY_UNKNOWN": "false"}, config_path=None, cwd=None).config
    decision = decide(1, failure(FailureClass.UNKNOWN), off, time_left_s=None, backoff_s=0)
    assert decision.stop
    assert "--no-retry-unknown" in decision.reason
    # Other retryable classes are not affected.
    assert not decide(
        1, failure(FailureClass.REGISTRY_TIMEOUT), off, time_left_s=None, backoff_s=0
    ).stop
