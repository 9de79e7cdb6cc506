"""Finding and ending every process of one attempt.

A build's processes can leave the session ci-guard gave the child (`setsid`, daemons that
double-fork), so membership is the union of four facts: seen earlier as a descendant of
the child, in the child's session or process group, carrying the attempt's id in its
environment, or a descendant of any of those. On Linux ci-guard is also a child
subreaper while an attempt runs, so orphans reparent to it and it can reap them: no
zombies stay behind.

psutil is imported on first use: an attempt whose child leaves nothing behind is
checked through /proc/self without it, which keeps `ci-guard run` quick to start.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psutil


@functools.cache
def _ps() -> ModuleType:
    import psutil

    return psutil


TREE_ID_VAR = "CI_GUARD_TREE_ID"
"""Environment variable that marks every process of one attempt (a random id)."""


_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37
_KILL_ROUNDS = 5
_POLL = 0.05


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
            found = _ps().Process(self.root_pid).children(recursive=True)
        except _ps().Error:
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
        for proc in _ps().process_iter(["ppid"]):
            if proc.pid == me:
                continue
            ppid = proc.info["ppid"]
            by_parent.setdefault(ppid, []).append(proc)
            read_env = deep and (orphan_parents is None or ppid in orphan_parents)
            if self._belongs(proc, deep=read_env):
                found[proc.pid] = proc
        _add_descendants(found, by_parent, list(found))
        return _split_zombies(found.values())

    def nothing_left(self) -> bool:
        """True only when it is certain that the exited root left no process behind.

        While ci-guard is the subreaper, every process of the attempt descends from it:
        the root's children were reparented to it when the root exited. So a root that
        is ci-guard's only child proves the tree is empty, read from /proc without a
        scan of every process. Anything else (no subreaper, no children file, another
        child) answers False and the caller makes the full scan.
        """
        if not is_subreaper():
            return False
        children = own_children()
        return children is not None and children <= {self.root_pid}

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
            except _ps().Error:
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


def own_children() -> set[int] | None:
    """The pids of this process's children, from /proc (None where it cannot tell)."""
    pids: set[int] = set()
    try:
        for task in Path("/proc/self/task").iterdir():
            pids.update(int(pid) for pid in (task / "children").read_text().split())
    except (OSError, ValueError):
        return None
    return pids


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
        except _ps().Error:
            continue
        (zombies if status == _ps().STATUS_ZOMBIE else live).append(proc)
    return live, zombies


def _has_marker(proc: psutil.Process, tree_id: str) -> bool:
    try:
        return proc.environ().get(TREE_ID_VAR) == tree_id
    except _ps().Error:
        return False


def _ppid(proc: psutil.Process) -> int | None:
    try:
        return proc.ppid()
    except _ps().Error:
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
