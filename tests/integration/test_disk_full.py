"""ci-guard's own disk full: a real tiny file system, filled up, and /dev/full.

The build must always run and its exit code come back; a full disk is one warning per
file that stops taking lines; classification still sees the line that explains the
failure, although the attempt log on disk was cut short.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.testbed.tinyfs import TinyFs, mount_tiny_fs

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tiny file system needs root")

CAUSE = (
    'Get "https://registry-1.docker.io/v2/": net/http: request canceled while waiting for '
    "connection (Client.Timeout exceeded while awaiting headers)"
)
# 3 MiB of build noise, then the line that explains the failure, then exit 1.
BUILD = (
    "import sys\n"
    "for i in range(40000):\n"
    "    print(f'#{i} downloading layer sha256:{i:064x} ' + '.' * 8)\n"
    f"print({CAUSE!r})\n"
    "sys.exit(1)\n"
)


@pytest.fixture
def tiny(tmp_path: Path) -> Iterator[TinyFs]:
    fs = mount_tiny_fs(tmp_path, size_mib=1, kind="tmpfs")
    try:
        yield fs
    finally:
        fs.unmount()


def fill(folder: Path, leave: int = 0) -> None:
    """Fill the file system holding folder, leaving about `leave` bytes free."""
    stats = os.statvfs(folder)
    free = stats.f_bavail * stats.f_frsize
    with open(folder / "filler", "wb") as handle, contextlib.suppress(OSError):
        handle.write(b"\0" * max(0, free - leave))  # ENOSPC at the very end is fine
        handle.flush()


def run_build(cwd: Path, *args: str) -> tuple[int, list[dict[str, Any]], list[str]]:
    """`ci-guard run` with JSON on stderr: (exit code, events, other stderr lines)."""
    argv = [
        sys.executable, "-m", "ci_guard", "run", "--no-preflight", "--max-attempts", "1",
        "--log-format", "json", *args, "--", sys.executable, "-c", BUILD,
    ]  # fmt: skip
    done = subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, errors="replace", timeout=120, check=False
    )
    events, other = [], []
    for line in done.stderr.splitlines():
        if line.startswith("{"):
            events.append(json.loads(line))
        else:
            other.append(line)
    assert "Traceback" not in done.stderr
    return done.returncode, events, other


def finished(events: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(e for e in events if e["event"] == name)


def test_everything_on_a_full_disk_still_runs_the_build(tiny: TinyFs, tmp_path: Path) -> None:
    fill(tiny.path)
    # --raw-logs: the attempt log goes straight to the full artifacts folder (masked
    # logs spool in the temp folder first, which this test bed does not fill).
    code, events, other = run_build(
        tmp_path,
        "--raw-logs",
        "--artifacts-dir", str(tiny.path / "art"),
        "--log-file", str(tiny.path / "run.jsonl"),
        "--junit", str(tiny.path / "junit.xml"),
    )  # fmt: skip
    assert code == 1  # the build's own code
    attempt = finished(events, "attempt.finished")
    assert attempt["failure_class"] == "registry_timeout"
    assert attempt["log_error"] == "No space left on device"
    assert finished(events, "run.finished")["status"] == "failed"
    assert finished(events, "output.failed")["output"] == "junit"
    warnings = [line for line in other if line.startswith("ci-guard: warning:")]
    assert len(warnings) == 1  # one cause, one warning: the log file's
    assert "run.jsonl: No space left on device" in warnings[0]


def test_attempt_log_cut_short_is_still_classified(tiny: TinyFs, tmp_path: Path) -> None:
    fill(tiny.path, leave=256 * 1024)  # room for the first few thousand lines only
    log = tmp_path / "run.jsonl"
    code, events, other = run_build(  # --raw-logs: written straight to the full disk
        tmp_path, "--raw-logs", "--artifacts-dir", str(tiny.path / "art"), "--log-file", str(log)
    )
    assert code == 1
    attempt = finished(events, "attempt.finished")
    assert attempt["log_error"] == "No space left on device"
    assert attempt["failure_class"] == "registry_timeout"
    assert CAUSE in attempt["evidence"]
    cut = Path(attempt["log_path"]).read_bytes()
    assert 0 < len(cut) < 3 * 1024 * 1024
    assert CAUSE.encode() not in cut  # the cause was never on disk: only in memory
    warnings = [line for line in other if line.startswith("ci-guard: warning:")]
    assert len(warnings) == 1
    assert "attempt log" in warnings[0]


def test_log_file_on_a_disk_that_fills_up(tiny: TinyFs, tmp_path: Path) -> None:
    log = tiny.path / "run.jsonl"
    log.write_text("")
    fill(tiny.path)
    code, events, other = run_build(
        tmp_path, "--log-file", str(log), "--artifacts-dir", str(tmp_path / "art")
    )
    assert code == 1
    assert finished(events, "attempt.finished")["failure_class"] == "registry_timeout"
    warnings = [line for line in other if line.startswith("ci-guard: warning:")]
    assert len(warnings) == 1
    assert f"log file {log}: No space left on device" in warnings[0]


def test_dev_full_as_log_file(tmp_path: Path) -> None:
    full = tmp_path / "full"  # a private /dev/full: the machine's own is left alone
    os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    code, events, other = run_build(tmp_path, "--log-file", str(full))
    assert code == 1
    assert finished(events, "run.finished")["exit_code"] == 1
    assert [line for line in other if "warning" in line] == [
        f"ci-guard: warning: log file {full}: No space left on device; "
        "from here on the JSON log goes to stderr only"
    ]
    assert stat.S_ISCHR(full.stat().st_mode)


def test_a_lost_log_file_is_called_incomplete_in_the_summary(tmp_path: Path) -> None:
    full = tmp_path / "full"
    os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    argv = [sys.executable, "-m", "ci_guard", "run", "--no-preflight", "--log-file", str(full),
            "--", "true"]  # fmt: skip
    done = subprocess.run(
        argv, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0
    lines = done.stderr.splitlines()
    assert f"  outputs not written: log-file {full}: No space left on device" in lines
    assert lines[-1] == f"  log: {full} (incomplete)"
