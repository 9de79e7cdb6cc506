"""Exit codes, spawn errors and bad input of supervise(), and the run_capture helper."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from ci_guard.errors import UsageError
from ci_guard.process import run_capture
from ci_guard.supervise.supervisor import exit_code_for, supervise


@pytest.mark.parametrize(
    ("returncode", "deadline", "cancelled_by", "expected"),
    [
        (0, False, None, 0),
        (42, False, None, 42),
        (-signal.SIGKILL, False, None, 137),
        (-signal.SIGTERM, True, None, 124),  # our deadline: 124 whatever the child did
        (0, True, None, 124),
        (-signal.SIGTERM, True, signal.SIGINT, 130),  # ci-guard cancelled: 128+N wins
        (None, False, None, 137),  # never reaped, even after SIGKILL
    ],
)
def test_exit_code_for(
    returncode: int | None, deadline: bool, cancelled_by: int | None, expected: int
) -> None:
    assert exit_code_for(returncode, deadline=deadline, cancelled_by=cancelled_by) == expected


def test_missing_program_by_path_is_127(tmp_path: Path) -> None:
    result = supervise([str(tmp_path / "nope")], timeout=5)
    assert result.exit_code == 127
    assert result.spawn_error == f"{tmp_path / 'nope'}: No such file or directory"
    assert (result.signal, result.timed_out, result.tail) == (None, False, ())


def test_file_without_exec_bit_is_126(tmp_path: Path) -> None:
    script = tmp_path / "build.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    result = supervise([str(script)], timeout=5)
    assert result.exit_code == 126
    assert result.spawn_error == f"{script}: Permission denied"


def test_missing_cwd_is_126(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    result = supervise([sys.executable, "-c", "pass"], cwd=gone, timeout=5)
    assert result.exit_code == 126
    assert result.spawn_error is not None
    assert str(gone) in result.spawn_error


def test_spawn_error_still_creates_the_log(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "attempt-1.log"
    result = supervise(["docker-compse"], timeout=5, log_path=log)
    assert result.log_path == log
    assert log.read_bytes() == b""


def test_empty_command_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no command"):
        supervise([], timeout=5)


def test_unwritable_log_warns_and_the_build_still_runs(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    code = "print('the cause'); raise SystemExit(3)"
    result = supervise([sys.executable, "-c", code], timeout=5, log_path=blocker / "a.log")
    assert (result.exit_code, result.log_error) == (3, "File exists")
    assert result.unlogged == ("the cause",)
    warnings = [line for line in capfd.readouterr().err.splitlines() if "warning" in line]
    assert len(warnings) == 1
    assert "attempt log" in warnings[0]


def test_run_capture_returns_output_and_codes() -> None:
    done = run_capture([sys.executable, "-c", "import sys; print('hi'); sys.exit(3)"])
    assert (done.returncode, done.stdout, done.ok) == (3, "hi\n", False)
    assert run_capture(["docker-compse"]).returncode == 127
    slow = run_capture([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.3)
    assert slow.returncode == 124
