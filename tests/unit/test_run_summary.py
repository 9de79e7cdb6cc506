"""The end-of-run summary, from run records the real run loop wrote (fake spawn, clock and
remedies; run/loop.py's Runner), and the renderer's own rules on a few hand-made records."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from ci_guard.config import Config, resolve
from ci_guard.doctor.preflight import PreflightResult
from ci_guard.doctor.result import CheckResult, DoctorReport
from ci_guard.failure import NO_MATCH_RULE, Failure, FailureClass, class_table
from ci_guard.mirrors.result import MirrorApplyResult
from ci_guard.records import (
    STATUS_FAILED,
    HostChange,
    OutputFailure,
    RemedyResult,
    RetryRecord,
    RunRecord,
    StopReason,
)
from ci_guard.redact import Redactor
from ci_guard.remedies import RemedyContext
from ci_guard.run.deps import RunDeps
from ci_guard.run.loop import Runner
from ci_guard.run.summary import ADVICE_CHARS, one_line, render_summary
from ci_guard.supervise.cancel import CancelToken
from ci_guard.supervise.supervisor import ProcessResult

DAEMON_JSON = Path("/etc/docker/daemon.json")
BACKUP = Path("/etc/docker/daemon.json.20261203T100000Z.ci-guard.bak")
DEAD = tuple(f"http://10.0.0.{n}:5000" for n in range(1, 7))
HEALTHY = "http://127.0.0.1:5000"


class Clock:
    """The run's monotonic clock: attempts, remedies and sleeps move it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def failure(cls: FailureClass) -> Failure:
    return Failure(cls, class_table()[cls].retryable, f"rule-{cls.value}", (f"saw {cls.value}",))


class Script:
    """Successive attempts: (seconds it runs, failure or None for success)."""

    def __init__(self, clock: Clock, steps: list[tuple[float, Failure | None]]) -> None:
        self.clock = clock
        self.steps = steps
        self.calls = 0

    def _step(self) -> tuple[float, Failure | None]:
        return self.steps[min(self.calls, len(self.steps)) - 1]

    def supervise(self, argv: list[str], **kwargs: Any) -> ProcessResult:
        self.calls += 1
        seconds, failed = self._step()
        self.clock.now += seconds
        return ProcessResult(
            exit_code=0 if failed is None else 1,
            signal=None,
            timed_out=False,
            no_output_timed_out=False,
            cancelled_by=None,
            duration_s=seconds,
            tail=(),
            log_path=None,
            spawn_error=None,
            killed_pids=(),
        )

    def classify(self, *args: Any) -> Failure | None:
        return self._step()[1]


class Remedy:
    """A remedy that takes `seconds` on the run's clock and returns `result`."""

    def __init__(self, clock: Clock, seconds: float, result: RemedyResult) -> None:
        self.name = result.remedy
        self.clock = clock
        self.seconds = seconds
        self.result = result

    def plan(self, ctx: RemedyContext) -> list[str]:
        return [f"{self.name}: scripted"]

    def apply(self, ctx: RemedyContext) -> RemedyResult:
        self.clock.now += self.seconds
        return self.result


@pytest.fixture
def config(tmp_path: Path) -> Config:
    cfg = resolve({}, env={}, cwd=tmp_path).config
    return dataclasses.replace(cfg, artifacts_dir=tmp_path / "art", log_file=tmp_path / "run.log")


def play(
    config: Config,
    steps: list[tuple[float, Failure | None]],
    *,
    wait: float = 5.0,
    remedies: list[Remedy] = (),  # type: ignore[assignment]
    env: dict[str, str] | None = None,
    sleep: Callable[[Clock], Callable[[float], None]] | None = None,
    **deps: Any,
) -> tuple[RunRecord, dict[str, Any]]:
    """Run the real loop; returns the record (log_file as the job sets it) and run.finished."""
    clock = Clock()
    script = Script(clock, steps)
    env = env or {"PATH": "/usr/bin"}
    run = RunRecord(
        run_id="r1",
        command=("build",),
        started_at="2026-12-03T10:00:00Z",
        max_attempts=config.max_attempts,
        log_file=config.log_file,
    )
    with capture_logs() as events:
        Runner(
            ("build",),
            config,
            run=run,
            log=structlog.get_logger(),
            deps=RunDeps(
                supervise=script.supervise,
                classify=script.classify,
                load_remedy={r.name: r for r in remedies}.get,
                wait_after=lambda _n: wait,
                sleep=sleep(clock) if sleep else clock.sleep,
                clock=clock,
                redact=Redactor(env).text,
                **deps,
            ),
            env=env,
        ).execute()
    (finished,) = [e for e in events if e["event"] == "run.finished"]
    return run, finished


def lost(finished: dict[str, Any]) -> tuple[float, float, float]:
    return finished["lost_attempts_s"], finished["lost_waits_s"], finished["lost_remedies_s"]


# -- short when there is little to say ----------------------------------------------------------


def test_success_at_once_that_changed_nothing_is_two_lines(config: Config) -> None:
    run, finished = play(config, [(42.0, None)])
    assert render_summary(run).splitlines() == [
        "ci-guard: succeeded on attempt 1/5 in 42.0s",
        f"  log: {config.log_file}",
    ]
    assert lost(finished) == (0.0, 0.0, 0.0)
    assert finished["host_changes"] == []
    run.log_file = None
    assert render_summary(run) == "ci-guard: succeeded on attempt 1/5 in 42.0s"


def test_a_single_failed_attempt_lost_no_time_to_retries(config: Config) -> None:
    run, finished = play(config, [(30.0, failure(FailureClass.IMAGE_NOT_FOUND))])
    text = render_summary(run)
    assert "time lost" not in text
    assert lost(finished) == (0.0, 0.0, 0.0)
    assert "  failures: image_not_found x1" in text.splitlines()


# -- time lost, from what really happened ---------------------------------------------------------


def test_time_lost_is_failed_attempts_followed_real_waits_and_remedies(config: Config) -> None:
    restart = Remedy(
        Clock(), 0, RemedyResult("restart-daemon", ok=True, changed=True, actions=("restarted",))
    )
    steps = [
        (60.0, failure(FailureClass.DAEMON_UNREACHABLE)),
        (2.0, failure(FailureClass.DAEMON_UNREACHABLE)),
        (100.0, None),
    ]
    ladder = dataclasses.replace(config, ladder=("retry", "retry", "restart-daemon"))

    def with_clock(clock: Clock) -> Callable[[float], None]:
        restart.clock, restart.seconds = clock, 7.0
        return clock.sleep

    run, finished = play(ladder, steps, wait=5.0, remedies=[restart], sleep=with_clock)

    assert lost(finished) == (62.0, 10.0, 7.0)
    assert [(r.remedy_s, r.waited_s) for r in run.retries] == [(0.0, 5.0), (7.0, 5.0)]
    assert (
        "  time lost to retries: 1m 19s (failed attempts 1m 02s, waits 10.0s, remedies 7.0s)"
        in (render_summary(run).splitlines())
    )
    assert "  remedies: restart-daemon" in render_summary(run).splitlines()


def test_a_cancel_during_the_wait_counts_the_time_waited_not_the_plan(config: Config) -> None:
    token = CancelToken()

    def cancel_after(seconds: float) -> Callable[[Clock], Callable[[float], None]]:
        def make(clock: Clock) -> Callable[[float], None]:
            def sleep(step: float) -> None:
                start = clock.now
                clock.sleep(step)
                if clock.now - start > 0 and clock.now >= seconds:
                    token.cancel(15)

            return sleep

        return make

    steps = [(1.0, failure(FailureClass.REGISTRY_TIMEOUT))] * 3
    run, finished = play(config, steps, wait=30.0, sleep=cancel_after(2.6), cancel=token)

    assert run.status == "cancelled"
    attempts_s, waits_s, remedies_s = lost(finished)
    assert attempts_s == 0.0  # no attempt followed the failed one
    assert 0 < waits_s < 30.0
    assert waits_s == pytest.approx(run.duration_s - 1.0)  # all of the run but the attempt
    assert run.retries[0].delay_s == 30.0
    assert remedies_s == 0.0
    assert "  time lost to retries: 1.8s (waits 1.8s)" in render_summary(run).splitlines()


def test_a_remedy_a_cancel_cut_short_counts_the_time_it_ran(config: Config) -> None:
    token = CancelToken()
    release = threading.Event()

    class Stuck(Remedy):
        def apply(self, ctx: RemedyContext) -> RemedyResult:
            self.clock.now += 4.0
            token.cancel(15)
            release.wait(10)  # a remedy that hangs on the daemon: the run does not wait
            return self.result

    stuck = Stuck(Clock(), 0, RemedyResult("restart-daemon", True, True))

    def with_clock(clock: Clock) -> Callable[[float], None]:
        stuck.clock = clock
        return clock.sleep

    steps = [(2.0, failure(FailureClass.DAEMON_UNREACHABLE))] * 2
    ladder = dataclasses.replace(config, ladder=("restart-daemon",))
    try:
        run, finished = play(ladder, steps, remedies=[stuck], sleep=with_clock, cancel=token)
    finally:
        release.set()

    assert run.status == "cancelled"
    (retry,) = run.retries
    assert (retry.remedy_result, retry.remedy_s, retry.waited_s) == (None, 4.0, 0.0)
    assert lost(finished) == (0.0, 0.0, 4.0)
    assert "  time lost to retries: 4.0s (remedies 4.0s)" in render_summary(run).splitlines()
    assert "  remedies: restart-daemon (no result)" in render_summary(run).splitlines()


# -- host changes ---------------------------------------------------------------------------------


def mirrors_refresh(**changes: Any) -> MirrorApplyResult:
    """What a refresh that pruned six dead mirrors and reloaded dockerd returns."""
    values: dict[str, Any] = {
        "daemon_config": DAEMON_JSON,
        "before": (*DEAD, HEALTHY),
        "after": (HEALTHY,),
        "changed": True,
        "dry_run": False,
        "ok": True,
        "action": "sighup",
        "backup": BACKUP,
        "verified": True,
    }
    values.update(changes)
    return MirrorApplyResult(**values)


def preflight_of(mirrors: MirrorApplyResult) -> Callable[[Config], dict[str, Any]]:
    check = CheckResult("dns", ok=True, severity="error", detail="", duration_s=0.01)
    fields = PreflightResult(DoctorReport((check,)), mirrors).as_log_fields()
    return lambda _config: fields


def test_preflight_that_rewrote_daemon_json_is_in_the_summary(config: Config) -> None:
    run, finished = play(config, [(3.0, None)], preflight=preflight_of(mirrors_refresh()))
    lines = render_summary(run).splitlines()
    assert lines[1] == "  changed on the host:"
    assert lines[2] == (
        f"    daemon.json (preflight): {DAEMON_JSON}: registry-mirrors removed "
        f"{', '.join(DEAD)}; backup {BACKUP}"
    )
    assert lines[3] == (
        "    daemon (preflight): reloaded with SIGHUP to read the new registry-mirrors"
    )
    assert [c["what"] for c in finished["host_changes"]] == ["daemon.json", "daemon"]
    assert {c["source"] for c in finished["host_changes"]} == {"preflight"}


def test_a_rolled_back_change_says_so(config: Config) -> None:
    refresh = mirrors_refresh(ok=False, verified=False, rolled_back=True)
    run, _ = play(config, [(3.0, None)], preflight=preflight_of(refresh))
    (daemon_json,) = [c for c in run.host_changes if c.what == "daemon.json"]
    assert daemon_json.rolled_back
    assert (
        render_summary(run)
        .splitlines()[2]
        .endswith("; rolled back from the backup: the daemon did not show the new list")
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"dry_run": True}, []),
        ({"changed": False, "action": "none", "after": (*DEAD, HEALTHY)}, []),
        ({"action": "skipped", "changed": False}, []),
        (
            {"action": "restart", "before": (HEALTHY,), "after": (HEALTHY, DEAD[0])},
            [
                f"{DAEMON_JSON}: registry-mirrors added {DEAD[0]}; backup {BACKUP}",
                "restarted to read the new registry-mirrors",
            ],
        ),
        (
            {"action": "written", "backup": None, "after": (HEALTHY,)},
            [
                f"{DAEMON_JSON}: registry-mirrors removed {', '.join(DEAD)}; dockerd not "
                "reloaded: restart it to use them"
            ],
        ),
    ],
)
def test_what_a_mirror_refresh_changed(changes: dict[str, Any], expected: list[str]) -> None:
    assert [c.detail for c in mirrors_refresh(**changes).host_changes()] == expected


def test_remedy_changes_are_kept_with_their_source_and_masked(config: Config) -> None:
    secret = "s3cr3t-mirror-token-8841"
    env = {"PATH": "/usr/bin", "MIRROR_TOKEN": secret}
    made = HostChange("daemon.json", f"registry-mirrors added https://ci:{secret}@mirror.example")
    repair = Remedy(
        Clock(), 0, RemedyResult("repair-network", True, True, ("set mirrors",), changes=(made,))
    )
    steps = [(1.0, failure(FailureClass.REGISTRY_TIMEOUT)), (1.0, None)]
    run, finished = play(
        dataclasses.replace(config, ladder=("repair-network",)), steps, remedies=[repair], env=env
    )
    (change,) = run.host_changes
    assert change.source == "repair-network after attempt 1"
    assert secret not in change.detail
    assert "***" in change.detail
    assert finished["host_changes"] == [change.as_dict()]
    text = render_summary(run)
    assert "  changed on the host: daemon.json (repair-network after attempt 1): " in text
    assert secret not in text


# -- remedies that failed, and what to do --------------------------------------------------------


def test_failed_remedies_say_which_and_why_once_per_reason(config: Config) -> None:
    secret = "s3cr3t-pass-6613"
    env = {"PATH": "/usr/bin", "REGISTRY_PASSWORD": secret}
    why = f"mirrors: no right to change /etc/docker/daemon.json (login {secret})"
    repair = Remedy(Clock(), 0, RemedyResult("repair-network", ok=False, changed=False, detail=why))
    steps = [(1.0, failure(FailureClass.REGISTRY_TIMEOUT))] * 3
    ladder = dataclasses.replace(config, max_attempts=3, ladder=("repair-network",))
    run, _ = play(ladder, steps, remedies=[repair], env=env)

    lines = render_summary(run).splitlines()
    assert "  remedies: repair-network x2 (failed)" in lines
    (reason,) = [line for line in lines if "failed:" in line]
    assert reason == (
        "    repair-network after attempts 1, 2 failed: mirrors: no right to change "
        "/etc/docker/daemon.json (login ***)"
    )
    assert all(r.remedy_result and secret not in r.remedy_result.detail for r in run.retries)


def test_a_skipped_remedy_gives_its_skip_reason(config: Config) -> None:
    needs = "restarting the daemon needs root"
    restart = Remedy(Clock(), 0, RemedyResult("restart-daemon", False, False, skipped=needs))
    steps = [(1.0, failure(FailureClass.DAEMON_UNREACHABLE)), (1.0, None)]
    ladder = dataclasses.replace(config, ladder=("restart-daemon",))
    run, _ = play(ladder, steps, remedies=[restart])
    lines = render_summary(run).splitlines()
    assert "  remedies: restart-daemon (failed)" in lines
    assert f"    restart-daemon after attempt 1 failed: {needs}" in lines


@pytest.mark.parametrize(
    "cls",
    [FailureClass.RATE_LIMITED, FailureClass.REGISTRY_TIMEOUT, FailureClass.IMAGE_NOT_FOUND],
)
def test_a_failed_run_says_what_to_do_from_its_class(config: Config, cls: FailureClass) -> None:
    run, _ = play(dataclasses.replace(config, max_attempts=2), [(1.0, failure(cls))] * 2)
    (line,) = [line for line in render_summary(run).splitlines() if "what to do" in line]
    advice = class_table()[cls].advice
    shown = line.removeprefix("  what to do: ")
    assert len(shown) <= ADVICE_CHARS
    assert advice.startswith(shown.rstrip(".\u2026"))
    if cls is FailureClass.RATE_LIMITED:
        assert shown == advice  # short enough: whole


def test_no_advice_after_success_cancel_or_an_unrecognised_failure(config: Config) -> None:
    run, _ = play(config, [(1.0, failure(FailureClass.REGISTRY_TIMEOUT)), (1.0, None)])
    assert "what to do" not in render_summary(run)
    no_match = Failure(FailureClass.UNKNOWN, True, NO_MATCH_RULE, ("frobnicator wedged",))
    run, _ = play(dataclasses.replace(config, max_attempts=1), [(1.0, no_match)])
    text = render_summary(run)
    assert "what to do" not in text
    assert "  not recognised: no rule matched attempt 1's output" in text


def test_one_line_cuts_at_a_clause_else_at_a_word() -> None:
    assert one_line("short; enough", 40) == "short; enough"
    assert one_line("first clause here; second clause goes past", 30) == "first clause here."
    assert one_line("one long sentence without any clause break at all", 30) == (
        "one long sentence without\u2026"
    )
    assert one_line("a\nb\x1b[31m c", 40) == "a b c"


# -- outputs not written ---------------------------------------------------------------------------


def test_outputs_not_written_are_one_line_without_repeating_the_target() -> None:
    run = RunRecord(
        run_id="r1",
        command=("build",),
        started_at="t",
        max_attempts=1,
        status=STATUS_FAILED,
        stop=StopReason("not_retryable", "x"),
        output_failures=[
            OutputFailure("junit", "/tmp", "/tmp is a folder, not a regular file"),
            OutputFailure("metrics-file", "/ro/m.prom", "cannot write /ro/m.prom: Read-only"),
            OutputFailure(
                "pushgateway",
                "http://127.0.0.1:9",
                "cannot push metrics to http://127.0.0.1:9: [Errno 111] Connection refused",
            ),
            OutputFailure("gitlab CI files (run_finished)", "", "/x/ci.env: Permission denied"),
        ],
    )
    (line,) = [line for line in render_summary(run).splitlines() if "outputs" in line]
    assert line == (
        "  outputs not written: junit /tmp: is a folder, not a regular file; metrics-file "
        "/ro/m.prom: Read-only; pushgateway http://127.0.0.1:9: Connection refused; "
        "gitlab CI files (run_finished): /x/ci.env: Permission denied"
    )


@pytest.mark.parametrize(
    ("oks", "expected"),
    [
        ([True], "restart-daemon"),
        ([True, True], "restart-daemon x2"),
        ([False, False], "restart-daemon x2 (failed)"),
        ([True, False, None], "restart-daemon x3 (1 failed, 1 no result)"),
        ([None], "restart-daemon (no result)"),
    ],
)
def test_the_remedies_line_counts_each_outcome(oks: list[bool | None], expected: str) -> None:
    def retry(number: int, ok: bool | None) -> RetryRecord:
        result = None if ok is None else RemedyResult("restart-daemon", ok, ok, detail="why")
        return RetryRecord(number, 1.0, "restart-daemon", "restart-daemon", result)

    run = RunRecord(run_id="r1", command=("build",), started_at="t", max_attempts=5)
    run.retries = [retry(n, ok) for n, ok in enumerate(oks, 1)]
    assert f"  remedies: {expected}" in render_summary(run).splitlines()
