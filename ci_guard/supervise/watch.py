"""The select loop of one attempt: output, deadlines, cancel, the child's exit, the end."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ci_guard.supervise.proctree import ProcessTree
from ci_guard.supervise.streams import OutputPump

END_TIMEOUT, END_NO_OUTPUT, END_CANCEL, END_STALL = "timeout", "no_output", "cancel", "stall"
"""Why ci-guard ended an attempt (None: the child exited by itself)."""

_SCAN_INTERVAL = 0.5
_POLL_INTERVAL = 0.1
_DRAIN_LIMIT = 2.0


@dataclass(frozen=True)
class Limits:
    timeout: float | None
    no_output_timeout: float | None
    kill_grace: float


class CancelSource(Protocol):
    """What the watch loop needs of process.CancelToken."""

    @property
    def signum(self) -> int | None: ...

    @property
    def count(self) -> int: ...

    def fileno(self) -> int: ...

    def clear_wakeups(self) -> None: ...


class ProgressWatch(Protocol):
    """Reads the output (through the pump) and says when a phase of it has stalled."""

    def feed(self, data: bytes) -> None: ...

    def deadline(self) -> float | None:
        """When the phase open now counts as stalled (the loop's clock); None: none open."""
        ...

    def evidence(self) -> tuple[str, ...]:
        """The lines of the phase open now; () when none is."""
        ...


class AttemptWatch:
    """The select loop of one attempt: output, deadlines, cancel, the child's exit, the end."""

    def __init__(
        self,
        proc: subprocess.Popen[bytes],
        tree: ProcessTree,
        pump: OutputPump,
        *,
        limits: Limits,
        cancel: CancelSource | None,
        clock: Callable[[], float],
        progress: ProgressWatch | None = None,
    ) -> None:
        self._proc, self._tree, self._pump = proc, tree, pump
        self._limits, self._cancel, self._clock = limits, cancel, clock
        self._progress = progress
        self.phase_evidence: tuple[str, ...] = ()
        """The progress watch's open phase when ci-guard ended the attempt (before the
        child's last words, e.g. BuildKit's CANCELED, close it)."""
        self._start = self._last_output = clock()
        self._exited = False
        self._sel = selectors.DefaultSelector()
        for fd in pump.fds:
            self._sel.register(fd, selectors.EVENT_READ)
        self._exit_fd = _pidfd(proc.pid)
        if self._exit_fd is not None:
            self._sel.register(self._exit_fd, selectors.EVENT_READ)
        if cancel is not None:
            self._sel.register(cancel.fileno(), selectors.EVENT_READ)

    def run(self) -> str | None:
        """Watch until the child exits or a deadline or cancel fires; end the tree; drain."""
        try:
            reason = self._watch()
            if reason is not None and self._progress is not None:
                self.phase_evidence = self._progress.evidence()
            self._stop_exit_watch()
            self._end_tree(reason)
            self._drain()
        except BaseException:
            self._tree.kill_survivors()  # never leave the build running behind an error
            raise
        finally:
            self._stop_exit_watch()
            self._sel.close()
        return reason

    def _watch(self) -> str | None:
        # a child just spawned has no descendants worth remembering yet
        next_scan = self._clock() + _SCAN_INTERVAL
        while True:
            now = self._clock()
            reason = self._reason(now)
            if reason is not None or self._root_exited():
                return reason
            if now >= next_scan:
                self._tree.scan()
                next_scan = now + _SCAN_INTERVAL
            self._step(min(self._next_deadline(now), next_scan) - now)

    def _reason(self, now: float) -> str | None:
        limits = self._limits
        if self._cancel is not None and self._cancel.signum is not None:
            return END_CANCEL
        if limits.timeout is not None and now - self._start >= limits.timeout:
            return END_TIMEOUT
        quiet = limits.no_output_timeout
        if quiet is not None and now - self._last_output >= quiet:
            return END_NO_OUTPUT
        stall = self._progress.deadline() if self._progress is not None else None
        if stall is not None and now >= stall:
            return END_STALL
        return None

    def _next_deadline(self, now: float) -> float:
        limits = self._limits
        due = [now + _POLL_INTERVAL] if self._exit_fd is None else [now + 3600.0]
        if limits.timeout is not None:
            due.append(self._start + limits.timeout)
        if limits.no_output_timeout is not None:
            due.append(self._last_output + limits.no_output_timeout)
        stall = self._progress.deadline() if self._progress is not None else None
        if stall is not None:
            due.append(stall)
        return min(due)

    def _step(self, wait: float) -> None:
        for key, _events in self._sel.select(max(wait, 0.0)):
            if key.fd == self._exit_fd:
                self._exited = True
                self._stop_exit_watch()
            elif self._cancel is not None and key.fd == self._cancel.fileno():
                self._cancel.clear_wakeups()
            elif self._pump.read(key.fd):
                self._last_output = self._clock()
            else:
                self._sel.unregister(key.fd)

    def _root_exited(self) -> bool:
        if self._exited or self._exit_fd is not None:
            return self._exited
        if not hasattr(os, "waitid"):  # macOS: poll() reaps; the group id may be reused
            self._exited = self._proc.poll() is not None
            return self._exited
        flags = os.WEXITED | os.WNOHANG | os.WNOWAIT  # look, but leave reaping to Popen
        try:
            self._exited = os.waitid(os.P_PID, self._proc.pid, flags) is not None
        except ChildProcessError:
            self._exited = True
        return self._exited

    def _stop_exit_watch(self) -> None:
        if self._exit_fd is not None:
            self._sel.unregister(self._exit_fd)
            os.close(self._exit_fd)
            self._exit_fd = None

    def _end_tree(self, reason: str | None) -> None:
        """TERM everything still alive, pump output through the grace, KILL survivors."""
        if reason is None and self._tree.nothing_left():
            return
        live, zombies = self._tree.members(deep=True)
        if not live:
            self._tree.reap(zombies=zombies)
            return
        self._tree.signal(signal.SIGTERM, live)
        self._tree.signal(signal.SIGCONT, live)  # a stopped process acts on TERM only now
        # one cancel is polite (grace); one more, before or during the grace, is not
        patience = 1 if reason == END_CANCEL else self._cancels()
        deadline = self._clock() + self._limits.kill_grace
        while self._tree.any_alive():
            now = self._clock()
            if now >= deadline or self._cancels() > patience:
                break
            self._step(min(_POLL_INTERVAL, deadline - now))
        self._tree.kill_survivors()

    def _cancels(self) -> int:
        return self._cancel.count if self._cancel is not None else 0

    def _drain(self) -> None:
        """Read what the pipes still hold; give up on a writer that escaped the tree."""
        deadline = self._clock() + _DRAIN_LIMIT
        while self._pump.fds and self._clock() < deadline:
            self._step(deadline - self._clock())


def _pidfd(pid: int) -> int | None:
    """A descriptor that becomes readable when pid exits (Linux 5.3+), else None (polling)."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None
