"""The time-lost split of one run where a real run is hard to stop on cue: a remedy a
cancel interrupted, a runner killed during a wait. The common cases (full waits, a wait
a cancel cut short, remedy time) are tested on real logs in test_report_real_runs.py."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ci_guard.report import lost
from ci_guard.report.runs import LoggedAttempt, LoggedLost, LoggedRetry, LoggedRun

T0 = datetime(2026, 11, 1, 10, 0, tzinfo=timezone.utc)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _run(retry: LoggedRetry, *, next_attempt: bool, last_seen: float) -> LoggedRun:
    run = LoggedRun("r1", "log", started_at=T0, first_seen=T0, last_seen=_at(last_seen))
    run.attempts[1] = LoggedAttempt(1, 1, 10.0, "registry_timeout", True, True, _at(0))
    if next_attempt:
        run.attempts[2] = LoggedAttempt(2, started_at=_at(last_seen))
    run.retries[1] = retry
    return run


def test_a_wait_followed_by_an_attempt_counts_its_delay() -> None:
    retry = LoggedRetry(1, 30.0, "retry", scheduled_at=_at(10))
    split = lost.split(_run(retry, next_attempt=True, last_seen=40))
    assert (split.attempts_s, split.waits_s, split.remedies_s, split.cut_waits) == (10, 30, 0, 0)


def test_a_remedy_a_cancel_interrupted_counts_until_the_last_line() -> None:
    retry = LoggedRetry(1, 30.0, "restart-daemon", scheduled_at=_at(10), remedy_started_at=_at(11))
    split = lost.split(_run(retry, next_attempt=False, last_seen=25))
    assert split.remedies_s == pytest.approx(14)
    assert split.waits_s == 0  # the wait never began
    assert split.cut_waits == 1


def test_a_wait_after_a_remedy_starts_when_the_remedy_ends() -> None:
    retry = LoggedRetry(
        1,
        30.0,
        "repair-network",
        scheduled_at=_at(10),
        remedy_started_at=_at(10),
        remedy_finished_at=_at(16),
    )
    split = lost.split(_run(retry, next_attempt=False, last_seen=20))
    assert (split.remedies_s, split.waits_s, split.cut_waits) == (6, 4, 1)


def test_a_runner_killed_during_a_wait_counts_only_what_the_log_shows() -> None:
    retry = LoggedRetry(1, 30.0, "retry", scheduled_at=_at(10))
    split = lost.split(_run(retry, next_attempt=False, last_seen=10))
    assert split.waits_s == 0
    assert split.cut_waits == 1


def test_a_logged_split_wins_part_by_part() -> None:
    retry = LoggedRetry(1, 30.0, "retry", scheduled_at=_at(10))
    run = _run(retry, next_attempt=True, last_seen=40)
    run.logged_lost = LoggedLost(attempts_s=None, waits_s=12.5, remedies_s=None)
    split = lost.split(run)
    assert (split.attempts_s, split.waits_s, split.logged) == (10, 12.5, True)
