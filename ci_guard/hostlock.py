"""The host-wide lock: two jobs on one runner never restart the daemon under each other.

An exclusive `flock` on one file per host (/run/lock/ci-guard.lock, or a per-user file
when that folder is not writable). The holder writes its pid into the file so a waiter
can say who it waits for. The lock is re-entrant within one process: repair-network
may call restart-daemon while it already holds the lock.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from ci_guard.errors import CiGuardError

SYSTEM_LOCK_DIR = Path("/run/lock")
LOCK_NAME = "ci-guard.lock"
DEFAULT_TIMEOUT = 600.0
_POLL_S = 0.1

# path -> (fd, depth) for locks this process holds; flock is per open file, so a second
# open() of the same path in this process would otherwise wait for itself.
_held: dict[str, tuple[int, int]] = {}
_held_guard = threading.Lock()


class LockTimeout(CiGuardError):
    """The lock stayed taken for the whole timeout."""


def user_runtime_dir() -> Path:
    """A private folder for per-user state when the system folders are not writable."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.access(runtime, os.W_OK):
        return Path(runtime) / "ci-guard"
    return Path(tempfile.gettempdir()) / f"ci-guard-{os.getuid()}"


def default_lock_path() -> Path:
    if os.access(SYSTEM_LOCK_DIR, os.W_OK):
        return SYSTEM_LOCK_DIR / LOCK_NAME
    return user_runtime_dir() / LOCK_NAME


def read_holder(path: Path) -> int | None:
    """The pid written by the current (or last) holder, if the file says one."""
    try:
        text = path.read_text("ascii", errors="replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


class HostLock:
    """`with HostLock(): ...` holds the host lock; LockTimeout names the holder."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path or default_lock_path()
        self.timeout = timeout
        self._sleep = sleep
        self._clock = clock
        self.waited_s = 0.0
        self.waited_for: int | None = None
        """The pid that held the lock when this process first had to wait."""

    def acquire(self) -> None:
        key = str(self.path)
        with _held_guard:
            if key in _held:
                fd, depth = _held[key]
                _held[key] = (fd, depth + 1)
                return
        fd = self._open()
        try:
            self._wait(fd)
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        with _held_guard:
            _held[key] = (fd, 1)

    def release(self) -> None:
        key = str(self.path)
        with _held_guard:
            fd, depth = _held.pop(key, (-1, 0))
            if depth > 1:
                _held[key] = (fd, depth - 1)
                return
        if fd >= 0:
            # Leave the pid in place would mislead the next waiter; empty it first.
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _open(self) -> int:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise CiGuardError(f"cannot open the host lock {self.path}: {exc.strerror}") from None

    def _wait(self, fd: int) -> None:
        start = self._clock()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.waited_s = self._clock() - start
                return
            except BlockingIOError:
                pass
            if self.waited_for is None:
                self.waited_for = read_holder(self.path)
            if self._clock() - start >= self.timeout:
                who = read_holder(self.path)
                holder = f"pid {who}" if who else "another process"
                raise LockTimeout(
                    f"host lock {self.path} still held by {holder} after {self.timeout:g}s"
                )
            self._sleep(_POLL_S)

    def __enter__(self) -> HostLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
