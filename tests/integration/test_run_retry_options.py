"""--retry-on, --retry-wait and --on-retry-command end to end: the real `ci-guard run`,
real commands and hooks, real signals; read back from the JSON log ci-guard wrote."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.test_run_cli import _gone, ci_guard, of, run

DNS = "echo \"  Temporary failure resolving 'deb.debian.org'\"; exit 100"


def test_retry_on_an_exit_code_retries_it(tmp_path: Path) -> None:
    done, events = run(tmp_path, "--retry-on", "exit:3", "--max-attempts", "3", "--",
                       "sh", "-c", "exit 3")  # fmt: skip
    assert done.returncode == 3
    assert [e["exit_code"] for e in of(events, "attempt.finished")] == [3, 3, 3]
    assert of(events, "run.finished")[0]["stop_reason"] == "attempts_exhausted"


def test_retry_on_an_exit_code_does_not_retry_another(tmp_path: Path) -> None:
    done, events = run(tmp_path, "--retry-on", "exit:3", "--max-attempts", "3", "--",
                       "sh", "-c", "exit 4")  # fmt: skip
    assert done.returncode == 4
    assert len(of(events, "attempt.finished")) == 1
    finished = of(events, "run.finished")[0]
    assert finished["stop_reason"] == "not_in_retry_on"
    assert finished["stop_detail"] == "unknown (exit 4) is not in --retry-on (exit:3)"
    assert "stopped: unknown (exit 4) is not in --retry-on (exit:3)" in done.stderr


def test_retry_on_a_class_leaves_other_retryable_classes_alone(tmp_path: Path) -> None:
    """dns_failure is retried by default; a --retry-on list without it stops it."""
    done, events = run(tmp_path, "--retry-on", "registry_timeout", "--max-attempts", "3",
                       "--", "sh", "-c", DNS)  # fmt: skip
    assert done.returncode == 100
    assert [e["failure_class"] for e in of(events, "attempt.finished")] == ["dns_failure"]
    assert of(events, "run.finished")[0]["stop_reason"] == "not_in_retry_on"
    (tmp_path / "b").mkdir()
    done, events = run(tmp_path / "b", "--retry-on", "network", "--max-attempts", "2",
                       "--", "sh", "-c", DNS)  # fmt: skip
    assert len(of(events, "attempt.finished")) == 2


def test_a_named_permanent_class_is_retried_and_says_why(tmp_path: Path) -> None:
    """The user's explicit choice wins over ci-guard's "not retryable"."""
    parse_error = "failed to solve: dockerfile parse error on line 3: unknown instruction: RUNN"
    dockerfile = f"echo '{parse_error}'; exit 1"
    _, events = run(tmp_path, "--max-attempts", "1", "--", "sh", "-c", dockerfile)
    assert of(events, "attempt.finished")[0]["failure_class"] == "dockerfile_error"
    assert of(events, "run.finished")[0]["stop_reason"] == "not_retryable"
    (tmp_path / "b").mkdir()
    _, events = run(tmp_path / "b", "--retry-on", "dockerfile_error", "--max-attempts", "2",
                    "--", "sh", "-c", dockerfile)  # fmt: skip
    assert len(of(events, "attempt.finished")) == 2
    (scheduled,) = of(events, "retry.scheduled")
    assert "--retry-on names it (dockerfile_error)" in scheduled["reason"]
    assert "ci-guard deems it not retryable" in scheduled["reason"]
    assert of(events, "run.finished")[0]["stop_reason"] == "attempts_exhausted"


def test_retry_on_from_the_environment(tmp_path: Path) -> None:
    env = {"CI_GUARD_RETRY_ON": "exit:3"}
    _, events = run(tmp_path, "--max-attempts", "2", "--", "sh", "-c", "exit 3", env=env)
    assert len(of(events, "attempt.finished")) == 2


def test_a_mistyped_class_is_exit_2_and_starts_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    done = subprocess.run(
        ci_guard("run", "--retry-on", "dns_failur", "--", "touch", str(marker)),
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == (
        "ci-guard: error: retry-on: unknown entry 'dns_failur' (did you mean 'dns_failure'?)\n"
    )
    assert not marker.exists()


def test_retry_wait_is_the_recorded_wait(tmp_path: Path) -> None:
    """The fixed wait replaces the backoff (run() sets a zero backoff: 0.3 s must come
    from --retry-wait); the waits are read from the log, not timed."""
    _, events = run(tmp_path, "--retry-wait", "0.3", "--retry-on", "exit:3",
                    "--max-attempts", "3", "--", "sh", "-c", "exit 3")  # fmt: skip
    assert [e["delay_s"] for e in of(events, "retry.scheduled")] == [0.3, 0.3]


def test_retry_wait_is_cut_by_the_total_timeout(tmp_path: Path) -> None:
    _, events = run(tmp_path, "--retry-wait", "600", "--total-timeout", "3",
                    "--retry-on", "exit:3", "--max-attempts", "2",
                    "--", "sh", "-c", "exit 3")  # fmt: skip
    (scheduled,) = of(events, "retry.scheduled")
    assert 0 <= scheduled["delay_s"] < 3


def test_on_retry_command_sees_the_failed_attempt(tmp_path: Path) -> None:
    hook = 'env | grep ^CI_GUARD_ | sort > "hook-$CI_GUARD_ATTEMPT.env"'
    _, events = run(tmp_path, "--on-retry-command", hook, "--retry-on", "exit:3",
                    "--max-attempts", "3", "--", "sh", "-c", "exit 3")  # fmt: skip
    run_id = of(events, "run.started")[0]["run_id"]
    for attempt in (1, 2):
        lines = (tmp_path / f"hook-{attempt}.env").read_text().splitlines()
        seen = dict(line.split("=", 1) for line in lines)
        assert seen["CI_GUARD_ATTEMPT"] == str(attempt)
        assert seen["CI_GUARD_NEXT_ATTEMPT"] == str(attempt + 1)
        assert seen["CI_GUARD_MAX_ATTEMPTS"] == "3"
        assert seen["CI_GUARD_EXIT_CODE"] == "3"
        assert seen["CI_GUARD_FAILURE_CLASS"] == "unknown"
        assert seen["CI_GUARD_REMEDY"] == "retry"
        assert seen["CI_GUARD_RUN_ID"] == run_id
    assert not (tmp_path / "hook-3.env").exists()  # no retry after the last attempt
    assert [e["attempt"] for e in of(events, "retry.hook_finished")] == [1, 2]


def test_the_hook_runs_after_the_wait_and_before_the_next_attempt(tmp_path: Path) -> None:
    _, events = run(tmp_path, "--on-retry-command", "true", "--retry-wait", "0.1",
                    "--retry-on", "exit:3", "--max-attempts", "2",
                    "--", "sh", "-c", "exit 3")  # fmt: skip
    order = [e["event"] for e in events if e["event"].startswith(("attempt.", "retry."))]
    assert order == [
        "attempt.started", "attempt.finished", "retry.scheduled",
        "retry.hook_started", "retry.hook_finished", "attempt.started", "attempt.finished",
        "retry.stopped",
    ]  # fmt: skip
    scheduled, started = of(events, "retry.scheduled")[0], of(events, "retry.hook_started")[0]
    assert started["timestamp"] > scheduled["timestamp"]


def test_a_failing_hook_is_logged_and_the_run_goes_on(tmp_path: Path) -> None:
    """The hook's output passes through; its failure is a warning, the retry still runs."""
    state = tmp_path / "second"
    command = f"if [ -e {state} ]; then exit 0; fi; touch {state}; exit 3"
    done, events = run(tmp_path, "--on-retry-command", "echo cleaning up; exit 7",
                       "--retry-on", "exit:3", "--", "sh", "-c", command)  # fmt: skip
    assert done.returncode == 0
    assert "cleaning up" in done.stdout
    (failed,) = of(events, "retry.hook_failed")
    assert failed["level"] == "warning"
    assert (failed["attempt"], failed["exit_code"], failed["timed_out"]) == (1, 7, False)
    assert failed["tail"] == ["cleaning up"]
    assert of(events, "run.finished")[0]["status"] == "succeeded"


def test_a_hook_past_its_deadline_is_ended_and_logged(tmp_path: Path) -> None:
    pidfile = tmp_path / "sleep.pid"
    hook = f"sleep 60 & echo $! > {pidfile}; wait"
    _, events = run(tmp_path, "--on-retry-command", hook, "--on-retry-timeout", "1",
                    "--kill-grace", "1", "--retry-on", "exit:3", "--max-attempts", "2",
                    "--", "sh", "-c", "exit 3")  # fmt: skip
    (failed,) = of(events, "retry.hook_failed")
    assert (failed["timed_out"], failed["exit_code"]) == (True, 124)
    assert len(of(events, "attempt.finished")) == 2
    assert _gone(int(pidfile.read_text()))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_during_the_hook_ends_its_tree(tmp_path: Path, signum: int) -> None:
    shell_pid, sleep_pid = tmp_path / "shell.pid", tmp_path / "sleep.pid"
    hook = f"echo $$ > {shell_pid}; sleep 120 & echo $! > {sleep_pid}.tmp; "
    hook += f"mv {sleep_pid}.tmp {sleep_pid}; wait"
    log = tmp_path / "run.jsonl"
    argv = ci_guard("run", "--no-preflight", "--kill-grace", "2", "--retry-wait", "0",
                    "--retry-on", "exit:3", "--on-retry-command", hook,
                    "--artifacts-dir", str(tmp_path / "art"), "--log-file", str(log),
                    "--", "sh", "-c", "exit 3")  # fmt: skip
    proc = subprocess.Popen(argv, cwd=tmp_path, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        for _ in range(600):
            if sleep_pid.exists() or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert sleep_pid.exists(), "the hook never started"
        pids = [int(shell_pid.read_text()), int(sleep_pid.read_text())]
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signum
    assert all(_gone(pid) for pid in pids)
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(of(events, "attempt.started")) == 1  # no attempt after the cancelled hook
    assert of(events, "retry.hook_failed") == []
    finished = events[-1]
    assert (finished["event"], finished["status"]) == ("run.finished", "cancelled")
    assert finished["exit_code"] == 128 + signum
    assert "Traceback" not in err


def test_no_hook_without_a_retry(tmp_path: Path) -> None:
    marker = tmp_path / "hook-ran"
    done, events = run(tmp_path, "--on-retry-command", f"touch {marker}", "--",
                       "sh", "-c", "exit 0")  # fmt: skip
    assert done.returncode == 0
    assert not marker.exists()
    assert of(events, "retry.hook_started") == []
