"""The host lock between real processes: contention, the holder's pid, re-entrancy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ci_guard import hostlock
from ci_guard.errors import CiGuardError
from ci_guard.hostlock import HostLock, LockTimeout, read_holder

HOLDER = """
import sys
from pathlib import Path
from ci_guard.hostlock import HostLock
with HostLock(Path(sys.argv[1]), timeout=5):
    print("held", flush=True)
    sys.stdin.readline()  # hold until the parent says so
"""


def _start_holder(path: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "held"
    return child


def _release(child: subprocess.Popen[str]) -> None:
    assert child.stdin is not None
    child.stdin.write("go\n")
    child.stdin.flush()
    assert child.wait(timeout=10) == 0


def test_second_process_waits_then_times_out_naming_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "ci-guard.lock"
    child = _start_holder(path)
    try:
        assert read_holder(path) == child.pid
        with pytest.raises(LockTimeout) as caught:
            HostLock(path, timeout=0.3).acquire()
        assert f"pid {child.pid}" in caught.value.message
    finally:
        _release(child)


def test_lock_is_taken_once_the_holder_lets_go(tmp_path: Path) -> None:
    path = tmp_path / "ci-guard.lock"
    child = _start_holder(path)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        _release(child)

    lock = HostLock(path, timeout=30, sleep=sleep)
    lock.acquire()
    try:
        assert lock.waited_for == child.pid
        assert len(waits) == 1
        assert read_holder(path) == os.getpid()
    finally:
        lock.release()
    assert read_holder(path) is None  # emptied on release


def test_lock_is_reentrant_within_one_process(tmp_path: Path) -> None:
    path = tmp_path / "ci-guard.lock"
    with HostLock(path, timeout=0.2), HostLock(path, timeout=0.2):
        assert read_holder(path) == os.getpid()
    # Fully released: another process can take it at once.
    child = _start_holder(path)
    _release(child)


def test_default_path_falls_back_to_a_user_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    real_access = os.access

    def access(path: object, mode: int) -> bool:
        return False if str(path) == str(hostlock.SYSTEM_LOCK_DIR) else real_access(path, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "access", access)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    path = hostlock.default_lock_path()
    assert path.name == "ci-guard.lock"
    assert path.parent.name == f"ci-guard-{os.getuid()}"


def test_unopenable_lock_is_a_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(CiGuardError, match="cannot open the host lock"):
        HostLock(blocker / "sub" / "ci-guard.lock").acquire()
