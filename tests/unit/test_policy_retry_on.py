"""--retry-on and --retry-wait in the pure policy: which failures are retried, and how long
the wait before the retry is. Table-driven: one row per case a user can write."""

from __future__ import annotations

import dataclasses

import pytest

from ci_guard.config import Config, resolve
from ci_guard.errors import UsageError
from ci_guard.failure import Failure, FailureClass, class_groups, class_table
from ci_guard.records import (
    STOP_ATTEMPTS_EXHAUSTED,
    STOP_NOT_IN_RETRY_ON,
    STOP_NOT_RETRYABLE,
    STOP_TIMEOUT_NOT_RETRIED,
)
from ci_guard.retry_on import parse_retry_on
from ci_guard.run.policy import decide

C = FailureClass


@pytest.fixture(scope="module")
def base() -> Config:
    return resolve({}, env={}, config_path=None, cwd=None).config


def failure(cls: FailureClass) -> Failure:
    return Failure(cls, class_table()[cls].retryable, "test-rule", ("evidence",))


def with_flags(**flags: str) -> Config:
    given = {name.replace("_", "-"): value for name, value in flags.items()}
    return resolve(given, env={}, config_path=None, cwd=None).config


# (retry-on, failure class, exit code, expected stop code: "" = retried)
VERDICTS = [
    # Empty: ci-guard's own choice, as before.
    ("", C.DNS_FAILURE, 100, ""),
    ("", C.DOCKERFILE_ERROR, 1, STOP_NOT_RETRYABLE),
    # Classes: named ones retried, others stop though ci-guard would retry them.
    ("registry_timeout,dns_failure", C.DNS_FAILURE, 100, ""),
    ("registry_timeout,dns_failure", C.REGISTRY_TIMEOUT, 1, ""),
    ("registry_timeout,dns_failure", C.CONNECTION_FAILURE, 1, STOP_NOT_IN_RETRY_ON),
    ("registry_timeout", C.TIMEOUT, 124, STOP_NOT_IN_RETRY_ON),
    ("registry_timeout", C.UNKNOWN, 3, STOP_NOT_IN_RETRY_ON),
    # The user's explicit choice wins over ci-guard's "not retryable".
    ("dockerfile_error", C.DOCKERFILE_ERROR, 1, ""),
    ("oom_killed", C.OOM_KILLED, 137, ""),
    ("dns_failure", C.DOCKERFILE_ERROR, 1, STOP_NOT_IN_RETRY_ON),
    # Groups.
    ("network", C.STEP_NETWORK_FAILURE, 100, ""),
    ("network", C.RATE_LIMITED, 1, ""),
    ("network", C.DAEMON_ERROR, 1, STOP_NOT_IN_RETRY_ON),
    ("network", C.TLS_UNTRUSTED, 1, STOP_NOT_IN_RETRY_ON),
    ("daemon", C.DAEMON_UNREACHABLE, 125, ""),
    ("registry", C.REGISTRY_UNAVAILABLE, 1, ""),
    ("registry", C.DNS_FAILURE, 1, STOP_NOT_IN_RETRY_ON),
    # Exit codes, whatever the class.
    ("exit:3", C.UNKNOWN, 3, ""),
    ("exit:3", C.UNKNOWN, 4, STOP_NOT_IN_RETRY_ON),
    ("exit:1,exit:137", C.OOM_KILLED, 137, ""),
    ("exit:1,exit:137", C.BUILD_STEP_FAILURE, 1, ""),
    ("exit:1,exit:137", C.DNS_FAILURE, 100, STOP_NOT_IN_RETRY_ON),
    ("exit:124", C.TIMEOUT, 124, ""),
    # Classes and codes together: either one selects.
    ("dns_failure,exit:2", C.DNS_FAILURE, 100, ""),
    ("dns_failure,exit:2", C.BUILD_STEP_FAILURE, 2, ""),
    ("dns_failure,exit:2", C.BUILD_STEP_FAILURE, 1, STOP_NOT_IN_RETRY_ON),
    # timeout named explicitly is retried (--retry-on-timeout is on by default).
    ("timeout", C.TIMEOUT, 124, ""),
]


@pytest.mark.parametrize(("retry_on", "cls", "exit_code", "expected"), VERDICTS)
def test_retry_on_decides_what_is_retried(
    retry_on: str, cls: FailureClass, exit_code: int, expected: str
) -> None:
    config = with_flags(retry_on=retry_on)
    decision = decide(1, failure(cls), config, time_left_s=None, backoff_s=0, exit_code=exit_code)
    assert decision.code == expected, decision.reason
    assert decision.stop is bool(expected)
    if expected == STOP_NOT_IN_RETRY_ON:
        assert decision.reason.endswith(f"is not in --retry-on ({retry_on})")


def test_a_chosen_class_still_stops_when_attempts_run_out() -> None:
    config = with_flags(retry_on="dockerfile_error", max_attempts="2")
    f = failure(C.DOCKERFILE_ERROR)
    first = decide(1, f, config, time_left_s=None, backoff_s=0, exit_code=1)
    assert not first.stop
    assert "ci-guard deems it not retryable" in first.reason
    assert first.remedy == "retry"  # no ladder remedy fits it: a plain retry
    last = decide(2, f, config, time_left_s=None, backoff_s=0, exit_code=1)
    assert last.code == STOP_ATTEMPTS_EXHAUSTED


def test_a_chosen_class_keeps_the_ladder_remedies() -> None:
    config = with_flags(retry_on="registry_timeout")
    decision = decide(2, failure(C.REGISTRY_TIMEOUT), config, time_left_s=None, backoff_s=0)
    assert decision.remedy == "restart-daemon"


@pytest.mark.parametrize(
    ("switch", "cls", "code"),
    [
        ("retry_on_timeout", C.TIMEOUT, STOP_TIMEOUT_NOT_RETRIED),
        ("retry_unknown", C.UNKNOWN, STOP_NOT_RETRYABLE),
    ],
)
def test_the_no_retry_switches_win_over_a_matching_exit_code(
    base: Config, switch: str, cls: FailureClass, code: str
) -> None:
    """--no-retry-on-timeout / --no-retry-unknown stop a failure even when an exit:N
    entry selects it (naming the class itself with them is a usage error)."""
    config = dataclasses.replace(base, retry_on=("exit:124", "exit:3"), **{switch: False})
    decision = decide(1, failure(cls), config, time_left_s=None, backoff_s=0, exit_code=124)
    assert decision.code == code


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"retry-on": "timeout", "retry-on-timeout": "false"}, "--no-retry-on-timeout is set"),
        ({"retry-on": "unknown", "retry-unknown": "false"}, "--no-retry-unknown is set"),
        ({"retry-on": "dns_failur"}, "unknown entry 'dns_failur' (did you mean 'dns_failure'?)"),
        ({"retry-on": "netwrk"}, "(did you mean 'network'?)"),
        ({"retry-on": "zzz"}, "expected a failure class (ci-guard classify), a group"),
        ({"retry-on": "exit:0"}, "expected exit:N with N from 1 to 255"),
        ({"retry-on": "exit:256"}, "expected exit:N with N from 1 to 255"),
        ({"retry-on": "exit:x"}, "expected exit:N with N from 1 to 255"),
    ],
)
def test_bad_retry_on_is_one_line_usage_error(flags: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        resolve(flags, env={}, config_path=None, cwd=None)
    assert message in caught.value.message
    assert "\n" not in caught.value.message


def test_retry_on_from_the_environment_is_checked_too() -> None:
    env = {"CI_GUARD_RETRY_ON": "registry_timout"}
    with pytest.raises(UsageError, match="did you mean 'registry_timeout'"):
        resolve({}, env=env, config_path=None, cwd=None)


def test_entries_are_case_and_space_insensitive() -> None:
    chosen = parse_retry_on((" DNS_Failure ", "Exit:7"))
    assert chosen.classes == {C.DNS_FAILURE: "dns_failure"}
    assert chosen.exit_codes == {7: "exit:7"}


@pytest.mark.parametrize(
    ("retry_on", "cls", "exit_code", "quoted"),
    [
        ("network", C.DNS_FAILURE, 100, "(network)"),
        ("network,dns_failure", C.DNS_FAILURE, 100, "(dns_failure)"),
        ("dns_failure,network", C.DNS_FAILURE, 100, "(dns_failure)"),
        ("registry,network", C.RATE_LIMITED, 1, "(registry)"),
        ("exit:100", C.DNS_FAILURE, 100, "(exit:100)"),
        ("daemon,exit:100", C.DNS_FAILURE, 100, "(exit:100)"),
    ],
)
def test_the_reason_quotes_the_entry_that_chose_the_failure(
    retry_on: str, cls: FailureClass, exit_code: int, quoted: str
) -> None:
    config = with_flags(retry_on=retry_on)
    decision = decide(1, failure(cls), config, time_left_s=None, backoff_s=0, exit_code=exit_code)
    assert decision.reason == f"{cls.value} is retryable and --retry-on names it {quoted}"


def test_groups_hold_only_classes_retried_by_default() -> None:
    groups = class_groups()
    assert {"network", "registry", "daemon"} <= set(groups)
    for name, members in groups.items():
        assert members, name
        assert all(class_table()[cls].retryable for cls in members), name
        assert name not in {cls.value for cls in FailureClass}, name


# (retry-wait, class, backoff, time left, expected wait)
WAITS = [
    (None, C.DNS_FAILURE, 7.5, None, 7.5),  # unset: the backoff
    (12.0, C.DNS_FAILURE, 7.5, None, 12.0),  # fixed, replaces the backoff
    (0.0, C.DNS_FAILURE, 7.5, None, 0.0),
    (12.0, C.RATE_LIMITED, 7.5, None, 60.0),  # rate_limited keeps its minimum
    (90.0, C.RATE_LIMITED, 7.5, None, 90.0),
    (12.0, C.DNS_FAILURE, 7.5, 5.0, 4.0),  # cut to the total deadline (1 s kept)
]


@pytest.mark.parametrize("case", WAITS)
def test_retry_wait_replaces_the_backoff(
    base: Config, case: tuple[float | None, FailureClass, float, float | None, float]
) -> None:
    retry_wait, cls, backoff, left, expected = case
    config = dataclasses.replace(base, retry_wait=retry_wait, rate_limit_backoff=60.0)
    decision = decide(1, failure(cls), config, time_left_s=left, backoff_s=backoff)
    assert not decision.stop
    assert decision.delay_s == expected
