"""Cancelling an attempt: ci-guard's signal handlers set a token that wakes the watch loop."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType

_CANCEL_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class CancelToken:
    """Set from ci-guard's signal handlers (or any thread) to end a running attempt.

    A self-pipe wakes a `supervise` loop blocked in select() at once. The first signal
    wins; a further one skips what is left of the kill grace.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()  # re-entrant: a handler may interrupt cancel() itself
        self._signum: int | None = None
        self._count = 0
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._read_fd, False)
        os.set_blocking(self._write_fd, False)

    def cancel(self, signum: int) -> None:
        with self._lock:
            if self._signum is None:
                self._signum = int(signum)  # a plain int, also when given a signal.Signals
            self._count += 1
        with contextlib.suppress(OSError):  # a full pipe wakes the reader just as well
            os.write(self._write_fd, b"\0")

    @property
    def signum(self) -> int | None:
        return self._signum

    @property
    def count(self) -> int:
        return self._count

    def fileno(self) -> int:
        """The read end of the wake-up pipe, for a selector."""
        return self._read_fd

    def clear_wakeups(self) -> None:
        with contextlib.suppress(OSError):
            while os.read(self._read_fd, 4096):
                pass

    def close(self) -> None:
        for fd in (self._read_fd, self._write_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._read_fd = self._write_fd = -1


def install_signal_handlers(token: CancelToken) -> Callable[[], None]:
    """SIGINT, SIGTERM, SIGHUP -> token.cancel(signum); returns a function restoring the old ones.

    Call it from the main thread (Python only lets the main thread set handlers).
    """

    def handler(signum: int, _frame: FrameType | None) -> None:
        token.cancel(signum)

    previous = {sig: signal.signal(sig, handler) for sig in _CANCEL_SIGNALS}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, signal.SIG_DFL if old is None else old)

    return restore
