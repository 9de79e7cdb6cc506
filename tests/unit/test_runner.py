"""The run loop with fake spawn/classify/sleep: decisions, events, exit codes."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from ci_guard.config import Config, resolve
from ci_guard.failure import Failure, FailureClass, class_table
from ci_guard.records import RemedyResult, RunRecord
from ci_guard.remedies import RemedyContext
from ci_guard.run.deps import RunDeps
from ci_guard.run.loop import Runner
from ci_guard.supervise.cancel import CancelToken
from ci_guard.supervise.supervisor import ProcessResult


def result(
    exit_code: int, *, timed_out: bool = False, cancelled_by: int | None = None
) -> ProcessResult:
    return ProcessResult(
        exit_code=exit_code,
        signal=None,
        timed_out=timed_out,
        no_output_timed_out=False,
        cancelled_by=cancelled_by,
        duration_s=1.5,
        tail=(f"exit {exit_code}",),
        log_path=None,
        spawn_error=None,
        killed_pids=(),
    )


def failure(cls: FailureClass) -> Failure:
    return Failure(cls, class_table()[cls].retryable, f"rule-{cls.value}", (f"saw {cls.value}",))


class Script:
    """Plays a list of (ProcessResult, Failure|None) as successive attempts."""

    def __init__(self, steps: list[tuple[ProcessResult, Failure | None]]) -> None:
        self.steps = steps
        self.calls: list[dict[str, Any]] = []

    def supervise(self, argv: list[str], **kwargs: Any) -> ProcessResult:
        self.calls.append({"argv": argv, **kwargs})
        return self.steps[len(self.calls) - 1][0]

    def classify(
        self, exit_code: int, signal: int | None, timed_out: bool, lines: Iterable[str]
    ) -> Failure | None:
        return self.steps[len(self.calls) - 1][1]


class FakeRemedy:
    def __init__(self, name: str) -> None:
        self.name = name
        self.applied: list[RemedyContext] = []

    def plan(self, ctx: RemedyContext) -> list[str]:
        return [f"would {self.name}"]

    def apply(self, ctx: RemedyContext) -> RemedyResult:
        self.applied.append(ctx)
        return RemedyResult(remedy=self.name, ok=True, changed=True, actions=(f"did {self.name}",))


@pytest.fixture
def config(tmp_path: Path) -> Config:
    cfg = resolve({"backoff-initial": "0", "backoff-max": "0"}, env={}, cwd=tmp_path).config
    return dataclasses.replace(cfg, artifacts_dir=tmp_path / "art")


def make_run(config: Config) -> RunRecord:
    return RunRecord(
        run_id="r1", command=("build",), started_at="t", max_attempts=config.max_attempts
    )


def execute(
    config: Config,
    script: Script,
    remedies: dict[str, FakeRemedy] | None = None,
    env: dict[str, str] | None = None,
    **deps: Any,
) -> tuple[RunRecord, list[dict[str, Any]]]:
    remedies = remedies or {}
    run = make_run(config)
    with capture_logs() as events:
        runner = Runner(
            ("build",),
            config,
            run=run,
            log=structlog.get_logger(),
            deps=RunDeps(
                supervise=script.supervise,
                classify=script.classify,
                load_remedy=remedies.get,
                **{"sleep": lambda s: None, **deps},
            ),
            env=env or {"PATH": "/usr/bin"},
        )
        runner.execute()
    return run, events


def names(events: list[dict[str, Any]]) -> list[str]:
    return [e["event"] for e in events]


def test_success_first_try(config: Config) -> None:
    run, events = execute(config, Script([(result(0), None)]))
    assert run.status == "succeeded"
    assert run.exit_code == 0
    assert names(events) == ["attempt.started", "attempt.finished", "run.finished"]


def test_permanent_failure_makes_exactly_one_attempt(config: Config) -> None:
    script = Script([(result(1), failure(FailureClass.IMAGE_NOT_FOUND))] * 5)
    run, events = execute(config, script)
    assert len(script.calls) == 1
    assert run.exit_code == 1
    assert run.failure_class == "image_not_found"
    assert "retry.scheduled" not in names(events)


def test_transient_failure_uses_every_attempt_with_the_ladder(config: Config) -> None:
    script = Script([(result(1), failure(FailureClass.DAEMON_UNREACHABLE))] * 5)
    restart = FakeRemedy("restart-daemon")
    run, events = execute(config, script, {"restart-daemon": restart})
    assert len(script.calls) == 5
    finished = [e for e in events if e["event"] == "attempt.finished"]
    assert [e["failure_class"] for e in finished] == ["daemon_unreachable"] * 5
    scheduled = [e["remedy"] for e in events if e["event"] == "retry.scheduled"]
    assert scheduled == ["retry", "restart-daemon", "restart-daemon", "restart-daemon"]
    assert len(restart.applied) == 3
    # Each remedy knows when its failure was seen: when that attempt ended.
    ends = [
        datetime.fromisoformat(a.started_at.replace("Z", "+00:00")).timestamp() + a.duration_s
        for a in run.attempts[1:4]
    ]
    assert [ctx.failed_at for ctx in restart.applied] == pytest.approx(ends)
    assert run.exit_code == 1
    envs = [call["env"] for call in script.calls]
    assert [e["CI_GUARD_ATTEMPT"] for e in envs] == ["1", "2", "3", "4", "5"]
    assert {e["CI_GUARD_MAX_ATTEMPTS"] for e in envs} == {"5"}


def test_missing_remedy_falls_back_to_plain_retry_and_says_so(config: Config) -> None:
    script = Script(
        [(result(1), failure(FailureClass.DAEMON_UNREACHABLE))] * 3 + [(result(0), None)]
    )
    run, events = execute(config, script, {})
    assert run.status == "succeeded"
    unavailable = [e for e in events if e["event"] == "remedy.unavailable"]
    assert unavailable
    assert unavailable[0]["remedy"] == "restart-daemon"


def test_timeout_gives_124_and_tempfail_code(config: Config) -> None:
    steps = [(result(124, timed_out=True), failure(FailureClass.TIMEOUT))] * 5
    run, _ = execute(config, Script(steps))
    assert (run.status, run.exit_code) == ("timed_out", 124)
    tempfail = dataclasses.replace(config, tempfail_exit_code=75)
    run, _ = execute(tempfail, Script(steps))
    assert run.exit_code == 75


def test_tempfail_does_not_apply_to_permanent_failures(config: Config) -> None:
    tempfail = dataclasses.replace(config, tempfail_exit_code=75)
    run, _ = execute(tempfail, Script([(result(3), failure(FailureClass.DOCKERFILE_ERROR))]))
    assert run.exit_code == 3


def test_cancel_during_attempt(config: Config) -> None:
    run, events = execute(config, Script([(result(143, cancelled_by=15), None)]))
    assert (run.status, run.exit_code) == ("cancelled", 143)
    assert events[-1]["event"] == "run.finished"
    assert events[-1]["status"] == "cancelled"


def test_cancel_during_wait(config: Config) -> None:
    token = CancelToken()
    script = Script([(result(1), failure(FailureClass.REGISTRY_TIMEOUT))] * 5)
    cfg = dataclasses.replace(config, backoff_initial=30.0, backoff_max=30.0)

    def sleep(_seconds: float) -> None:
        token.cancel(2)

    run, events = execute(cfg, script, sleep=sleep, cancel=token)
    assert len(script.calls) == 1
    assert (run.status, run.exit_code) == ("cancelled", 130)
    assert events[-1]["event"] == "run.finished"


def test_preflight_is_logged_and_never_stops_the_build(config: Config) -> None:
    def preflight(_cfg: Config) -> dict[str, Any]:
        raise RuntimeError("probe exploded")

    run, events = execute(config, Script([(result(0), None)]), preflight=preflight)
    assert run.status == "succeeded"
    pre = [e for e in events if e["event"] == "preflight.finished"]
    assert pre
    assert pre[0]["healthy"] is False


def test_daemon_is_recorded_when_the_ladder_may_restart_it(config: Config) -> None:
    seen: list[str | None] = []
    done = threading.Event()

    def snapshot(host: str | None) -> None:
        seen.append(host)
        done.set()

    execute(
        config,
        Script([(result(0), None)]),
        snapshot=snapshot,
        env={"DOCKER_HOST": "unix:///x.sock"},
    )
    assert done.wait(5)
    assert seen == ["unix:///x.sock"]
    seen.clear()
    plain = dataclasses.replace(config, ladder=("retry",))
    execute(
        plain, Script([(result(0), None)]), snapshot=snapshot, env={"DOCKER_HOST": "unix:///x.sock"}
    )
    assert seen == []


def stop_of(run: RunRecord, events: list[dict[str, Any]]) -> tuple[str, str]:
    """The stop reason as the record keeps it; the run.finished event must say the same."""
    assert run.stop is not None
    finished = events[-1]
    assert finished["event"] == "run.finished"
    assert (finished["stop_reason"], finished["stop_detail"]) == (run.stop.code, run.stop.detail)
    return run.stop.code, run.stop.detail


def test_stop_reason_success_and_exhausted(config: Config) -> None:
    run, events = execute(config, Script([(result(0), None)]))
    assert stop_of(run, events) == ("succeeded", "attempt 1 succeeded")
    steps = [(result(1), failure(FailureClass.REGISTRY_TIMEOUT))] * 5
    run, events = execute(config, Script(steps))
    assert stop_of(run, events) == ("attempts_exhausted", "attempts exhausted (5/5)")


def test_stop_reason_not_retried_timeout_is_not_exhaustion(config: Config) -> None:
    no_retry = dataclasses.replace(config, retry_on_timeout=False)
    steps = [(result(124, timed_out=True), failure(FailureClass.TIMEOUT))] * 5
    run, events = execute(dataclasses.replace(no_retry, tempfail_exit_code=75), Script(steps))
    code, detail = stop_of(run, events)
    assert code == "timeout_not_retried"
    assert "--no-retry-on-timeout" in detail
    assert len(run.attempts) == 1
    assert run.exit_code == 124  # not the tempfail code: nothing transient was given up on


def test_stop_reason_total_deadline(config: Config) -> None:
    now = [0.0]
    steps = [(result(1), failure(FailureClass.REGISTRY_TIMEOUT))] * 5
    script = Script(steps)
    plain_supervise = script.supervise

    def slow_supervise(argv: list[str], **kwargs: Any) -> ProcessResult:
        now[0] += 60.0  # each attempt takes a minute of the 90 s budget
        return plain_supervise(argv, **kwargs)

    script.supervise = slow_supervise  # type: ignore[method-assign]
    cfg = dataclasses.replace(config, total_timeout=90.0, tempfail_exit_code=75)
    run, events = execute(cfg, script, clock=lambda: now[0])
    assert stop_of(run, events)[0] == "total_deadline"
    assert len(run.attempts) == 2
    assert run.exit_code == 75  # still a transient failure: an outer retry may take over


def test_stop_reason_disk_full_with_free_disk_is_exhaustion(config: Config) -> None:
    cfg = dataclasses.replace(config, free_disk=True)
    steps = [(result(1), failure(FailureClass.DISK_FULL))] * 5
    run, events = execute(cfg, Script(steps), {"free-disk": FakeRemedy("free-disk")})
    assert stop_of(run, events)[0] == "attempts_exhausted"
    run, events = execute(config, Script(steps))
    assert stop_of(run, events)[0] == "not_retryable"


def test_stop_reason_cancelled(config: Config) -> None:
    run, events = execute(config, Script([(result(143, cancelled_by=15), None)]))
    assert stop_of(run, events) == ("cancelled", "ci-guard was stopped by signal 15")


def test_summary_reads_the_stop_reason(config: Config) -> None:
    from ci_guard.run.summary import render_summary

    no_retry = dataclasses.replace(config, retry_on_timeout=False)
    steps = [(result(124, timed_out=True), failure(FailureClass.TIMEOUT))]
    run, _ = execute(no_retry, Script(steps))
    text = render_summary(run)
    assert "stopped: the attempt hit its deadline and --no-retry-on-timeout is set" in text
    assert "exhausted" not in text
    assert "retryable" not in text
