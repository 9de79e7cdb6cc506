"""Cancelling a run: ci-guard's signal handlers set a token that every phase obeys.

The token wakes an attempt's watch loop at once; `call_cancellable` makes any other
phase (preflight, classification, a remedy) give way to it; `catch_early_signals`
holds a signal that arrives while ci-guard is still starting up, so it cannot be lost.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import TypeVar

_CANCEL_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_POLL_S = 0.05
T = TypeVar("T")


class Cancelled(Exception):
    """ci-guard received a stop signal; the run ends as cancelled."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


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


_early: list[tuple[CancelToken, Callable[[], None]]] = []
"""The process token of `catch_early_signals` and the restorer of the handlers it
replaced, while it holds them."""


def catch_early_signals() -> CancelToken:
    """From the very start of the process: a stop signal is held in the process token
    (no KeyboardInterrupt traceback from an import, no lost cancel before `run` is ready).
    """
    if not _early:
        token = CancelToken()
        _early.append((token, install_signal_handlers(token)))
    return _early[0][0]


def process_token() -> CancelToken:
    """The token holding early signals, or a fresh one when none were caught."""
    return _early[0][0] if _early else CancelToken()


def release_early_signals() -> None:
    """For commands without cancel handling: the handlers ci-guard started with again
    (KeyboardInterrupt for SIGINT; an ignored SIGHUP under nohup stays ignored), and a
    signal already held is delivered now, as if it had arrived just now."""
    if not _early:
        return
    token, restore = _early.pop()
    restore()
    if token.signum is not None:
        os.kill(os.getpid(), token.signum)


_ABANDONED: list[threading.Thread] = []


def work_abandoned() -> bool:
    """Whether a cancelled worker is still running (see `call_cancellable`)."""
    return any(worker.is_alive() for worker in _ABANDONED)


def call_cancellable(func: Callable[[], T], token: CancelToken) -> T:
    """func() in a worker thread; its result, or Cancelled as soon as the token is set.

    A cancelled worker is abandoned (a daemon thread ends with the process): a long
    classification or a remedy waiting for a daemon must not hold a cancel back.
    """
    if token.signum is not None:
        raise Cancelled(token.signum)
    done = threading.Event()
    box: list[T] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            box.append(func())
        except BaseException as exc:  # handed to the caller's thread
            errors.append(exc)
        finally:
            done.set()

    worker = threading.Thread(target=work, name="ci-guard-cancellable", daemon=True)
    worker.start()
    while not done.wait(_POLL_S):
        if token.signum is not None:
            _ABANDONED.append(worker)
            raise Cancelled(token.signum)
    if errors:
        raise errors[0]
    return box[0]
