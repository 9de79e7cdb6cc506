"""The machinery behind `process.supervise`: watch one attempt, then end all of it.

`AttemptWatch` is the select loop (output, deadlines, cancel, the child's exit),
`OutputPump` and `TailBuffer` move the output, `ProcessTree` finds and ends processes.
A build's processes can leave the session ci-guard gave the child (`setsid`, daemons that
double-fork), so membership is the union of four facts: seen earlier as a descendant of
the child, in the child's session or process group, carrying the attempt's id in its
environment, or a descendant of any of those. On Linux ci-guard is also a child
subreaper while an attempt runs, so orphans reparent to it and it can reap them: no
zombies stay behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

import psutil

TREE_ID_VAR = "CI_GUARD_TREE_ID"
"""Environment variable that marks every process of one attempt (a random id)."""

END_TIMEOUT, END_NO_OUTPUT, END_CANCEL = "timeout", "no_output", "cancel"
"""Why ci-guard ended an attempt (None: the child exited by itself)."""

_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37
_KILL_ROUNDS = 5
_POLL = 0.05
_READ_SIZE = 64 * 1024
_SCAN_INTERVAL = 0.5
_POLL_INTERVAL = 0.1
_DRAIN_LIMIT = 2.0
_MAX_LINE = 4096
_MAX_CHUNKS = 512


class CancelSource(Protocol):
    """What the watch loop needs of process.CancelToken."""

    @property
    def signum(self) -> int | None: ...

    @property
    def count(self) -> int: ...

    def fileno(self) -> int: ...

    def clear_wakeups(self) -> None: ...


class _Subreaper:
    """PR_SET_CHILD_SUBREAPER while at least one attempt runs, then the state from before.

    Only while an attempt runs: otherwise daemons that ci-guard (or a test process)
    starts and that double-fork, like containerd shims, would be reparented to it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._restore = False

    @contextlib.contextmanager
    def held(self) -> Iterator[bool]:
        with self._lock:
            if self._depth == 0:
                self._restore = _set_subreaper(True)
            self._depth += 1
        try:
            yield is_subreaper()
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0 and self._restore:
                    _set_subreaper(False)


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def is_subreaper() -> bool:
    libc = _libc()
    value = ctypes.c_int(0)
    if libc is None or libc.prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(value), 0, 0, 0):
        return False
    return bool(value.value)


def _set_subreaper(on: bool) -> bool:
    """Set the flag; True when this call changed it (so it should be undone later)."""
    libc = _libc()
    if libc is None or is_subreaper() == on:
        return False
    return int(libc.prctl(_PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0)) == 0


subreaper = _Subreaper().held
"""Context manager: orphans of the attempt reparent to ci-guard (Linux, best effort)."""


class ProcessTree:
    """The processes of one attempt, rooted at the child spawned with start_new_session.

    The caller reaps the root itself (Popen.wait), and only once the tree is ended: until
    then its pid stays taken, so the session and group id cannot name anybody else.
    """

    def __init__(self, root_pid: int, tree_id: str) -> None:
        self.root_pid = root_pid
        self.tree_id = tree_id
        self._seen: dict[int, psutil.Process] = {}
        self.killed: dict[int, None] = {}
        """Pids signalled while ending the tree, in order (a dict as an ordered set)."""

    def scan(self) -> None:
        """Remember the child's current descendants: they may leave its session later."""
        try:
            found = psutil.Process(self.root_pid).children(recursive=True)
        except psutil.Error:
            return
        # keep escapees (no longer descendants) while they live; forget the dead
        kept = {pid: p for pid, p in self._seen.items() if pid in self.killed or p.is_running()}
        kept.update((proc.pid, proc) for proc in found)
        self._seen = kept

    def members(self, *, deep: bool) -> tuple[list[psutil.Process], list[psutil.Process]]:
        """(live, zombie) processes of the attempt, root included; `deep` reads environments."""
        me = os.getpid()
        # An escapee whose parent died is an orphan: reparented to us while we are the
        # subreaper, else to init. Only orphans need the costly environment read then.
        orphan_parents = {1, me} if is_subreaper() else None
        by_parent: dict[int, list[psutil.Process]] = {}
        found: dict[int, psutil.Process] = {}
        for proc in psutil.process_iter(["ppid"]):
            if proc.pid == me:
                continue
            ppid = proc.info["ppid"]
            by_parent.setdefault(ppid, []).append(proc)
            read_env = deep and (orphan_parents is None or ppid in orphan_parents)
            if self._belongs(proc, deep=read_env):
                found[proc.pid] = proc
        _add_descendants(found, by_parent, list(found))
        return _split_zombies(found.values())

    def any_alive(self) -> bool:
        """Cheap check during the grace: a signalled process or a session member lives."""
        signalled = [p for p in self._seen.values() if p.pid in self.killed and p.is_running()]
        if _split_zombies(signalled)[0]:
            return True
        return bool(self.members(deep=False)[0])

    def _belongs(self, proc: psutil.Process, *, deep: bool) -> bool:
        if proc.pid == self.root_pid or self._seen.get(proc.pid) == proc:
            return True  # psutil compares pid and start time: a reused pid does not match
        try:
            if self.root_pid in (os.getsid(proc.pid), os.getpgid(proc.pid)):
                return True
        except OSError:
            return False
        return deep and _has_marker(proc, self.tree_id)

    def signal(self, signum: int, procs: Iterable[psutil.Process]) -> None:
        """Send signum to the child's process group and to each of procs."""
        with contextlib.suppress(OSError):  # an empty group: the signals below still go out
            os.killpg(self.root_pid, signum)
        for proc in procs:
            try:
                proc.send_signal(signum)
            except psutil.Error:
                continue
            self._seen[proc.pid] = proc
            self.killed[proc.pid] = None

    def kill_survivors(self, wait: float = 1.0) -> None:
        """SIGKILL whatever still lives, again if it forked meanwhile, and reap orphans."""
        for _ in range(_KILL_ROUNDS):
            live, _zombies = self.members(deep=True)
            if not live:
                break
            self.signal(signal.SIGKILL, live)
            _wait_dead(live, wait)
        self.reap(wait)

    def reap(self, wait: float = 1.0, zombies: list[psutil.Process] | None = None) -> None:
        """Collect the exit status of members that were reparented to us (subreaper).

        `zombies` is a scan the caller has just made, saving the first one here.
        """
        me = os.getpid()
        deadline = time.monotonic() + wait
        while True:
            if zombies is None:
                found = self.members(deep=False)[1]
            else:
                found, zombies = zombies, None
            zombies = [z for z in found if z.pid != self.root_pid]  # Popen reaps the root
            ours = [z for z in zombies if _ppid(z) == me]
            for zombie in ours:
                _waitpid_nohang(zombie.pid)
            # a dying member's own zombies reparent to us only once it has exited
            if len(ours) == len(zombies) or time.monotonic() >= deadline:
                return
            time.sleep(_POLL)


def _add_descendants(
    found: dict[int, psutil.Process], by_parent: dict[int, list[psutil.Process]], roots: list[int]
) -> None:
    stack = list(roots)
    while stack:
        for child in by_parent.get(stack.pop(), []):
            if child.pid not in found:
                found[child.pid] = child
                stack.append(child.pid)


def _split_zombies(
    procs: Iterable[psutil.Process],
) -> tuple[list[psutil.Process], list[psutil.Process]]:
    live: list[psutil.Process] = []
    zombies: list[psutil.Process] = []
    for proc in procs:
        try:
            status = proc.status()
        except psutil.Error:
            continue
        (zombies if status == psutil.STATUS_ZOMBIE else live).append(proc)
    return live, zombies


def _has_marker(proc: psutil.Process, tree_id: str) -> bool:
    try:
        return proc.environ().get(TREE_ID_VAR) == tree_id
    except psutil.Error:
        return False


def _ppid(proc: psutil.Process) -> int | None:
    try:
        return proc.ppid()
    except psutil.Error:
        return None


def _waitpid_nohang(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _wait_dead(procs: list[psutil.Process], wait: float) -> None:
    """Wait until every proc has exited (a zombie counts as exited) or `wait` passes."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        live, _zombies = _split_zombies(p for p in procs if p.is_running())
        if not live:
            return
        time.sleep(_POLL)


def split_tail(data: bytes, max_lines: int, *, partial_first: bool = False) -> tuple[str, ...]:
    """The last `max_lines` lines of raw output, as text.

    A carriage-return progress line keeps its last state (what a terminal shows), CRLF
    endings lose their CR, undecodable bytes become U+FFFD, very long lines are cut.
    `partial_first`: the data starts mid-line (a cut buffer), so its first line is dropped.
    """
    if max_lines <= 0 or not data:
        return ()
    lines = data.rsplit(b"\n", max_lines + 1)
    if lines[-1] == b"":
        lines.pop()
    if len(lines) > max_lines:
        lines = lines[-max_lines:]
    elif partial_first and len(lines) > 1:
        del lines[0]
    return tuple(_line_text(line) for line in lines)


def _line_text(line: bytes) -> str:
    shown = line.rstrip(b"\r").rpartition(b"\r")[2]
    text = shown[: _MAX_LINE * 4].decode("utf-8", errors="replace")
    return text if len(text) <= _MAX_LINE else text[:_MAX_LINE] + "..."


class TailBuffer:
    """The last bytes of the combined output in arrival order; split into lines at the end.

    Chunks are kept by reference (no copying on the hot path) and dropped from the front
    once the rest holds `max_bytes`: memory stays bounded however much is printed.
    """

    def __init__(self, max_bytes: int) -> None:
        self._max = max_bytes
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._source: object = None
        self._open_line = False
        self._cut = False

    def feed(self, source: object, data: bytes) -> None:
        if source != self._source and self._open_line:
            self._add(b"\n")  # a half line of stdout must not glue onto a line of stderr
        self._source = source
        self._open_line = not data.endswith(b"\n")
        self._add(data)

    def _add(self, data: bytes) -> None:
        chunks = self._chunks
        chunks.append(data)
        self._size += len(data)
        while self._size - len(chunks[0]) >= self._max:
            self._size -= len(chunks.popleft())
            self._cut = True
        if len(chunks) > _MAX_CHUNKS:  # many tiny writes: keep the deque short
            joined = b"".join(chunks)
            chunks.clear()
            chunks.append(joined)

    def lines(self, max_lines: int) -> tuple[str, ...]:
        return split_tail(b"".join(self._chunks), max_lines, partial_first=self._cut)


@dataclass(frozen=True)
class Limits:
    timeout: float | None
    no_output_timeout: float | None
    kill_grace: float


class OutputPump:
    """Copies each chunk of the child's pipes to its sink, the log and the tail."""

    def __init__(self, routes: dict[int, BinaryIO], log: BinaryIO | None, tail: TailBuffer) -> None:
        self._routes = dict(routes)
        self._log = log
        self._tail = tail
        self._broken: set[int] = set()

    @property
    def fds(self) -> tuple[int, ...]:
        """The pipes not yet at their end."""
        return tuple(self._routes)

    def read(self, fd: int) -> bool:
        """Move one chunk from fd; False at its end."""
        try:
            data = os.read(fd, _READ_SIZE)
        except OSError:
            data = b""
        if not data:
            del self._routes[fd]
            return False
        self._write(self._routes[fd], data)
        if self._log is not None:
            self._write(self._log, data)
        self._tail.feed(fd, data)
        return True

    def _write(self, sink: BinaryIO, data: bytes) -> None:
        if id(sink) in self._broken:
            return
        try:
            _write_all(sink, data)
            sink.flush()
        except (OSError, ValueError):  # reader gone (EPIPE), disk full, closed file
            self._broken.add(id(sink))  # the other destinations keep getting the output


def _write_all(sink: BinaryIO, data: bytes) -> None:
    """Write data; a raw (unbuffered) sink may take only part of it per call."""
    written = sink.write(data)
    rest = memoryview(data)[written or len(data) :]
    while rest:
        rest = rest[sink.write(rest) or len(rest) :]


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
    ) -> None:
        self._proc, self._tree, self._pump = proc, tree, pump
        self._limits, self._cancel, self._clock = limits, cancel, clock
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
        next_scan = self._clock()
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
        return None

    def _next_deadline(self, now: float) -> float:
        limits = self._limits
        due = [now + _POLL_INTERVAL] if self._exit_fd is None else [now + 3600.0]
        if limits.timeout is not None:
            due.append(self._start + limits.timeout)
        if limits.no_output_timeout is not None:
            due.append(self._last_output + limits.no_output_timeout)
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
