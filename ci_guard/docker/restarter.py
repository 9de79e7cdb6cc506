"""Restarting dockerd by the plan control.plan_restart made: stop it, clear stale pid
files, start it again, wait for /_ping."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ci_guard import process
from ci_guard.docker import daemon_state
from ci_guard.docker.api import ping
from ci_guard.docker.control import (
    PING_TIMEOUT_S,
    STOP_TIMEOUT_S,
    Clock,
    RestartOutcome,
    RestartPlan,
    Sleep,
    inode,
    netns_path_for,
    read_process,
)
from ci_guard.docker.endpoint import DaemonProcess, flag_values


@dataclass
class Restarter:
    """Carries out a RestartPlan; clock, sleep and timeouts injectable for tests."""

    ping_timeout: float = PING_TIMEOUT_S
    stop_timeout: float = STOP_TIMEOUT_S
    folder: Path | None = None
    sleep: Sleep = time.sleep
    clock: Clock = time.monotonic
    actions: list[str] = field(default_factory=list)

    def run(self, plan: RestartPlan) -> RestartOutcome:
        self.actions = []
        if plan.problem:
            return RestartOutcome(False, (), plan.problem)
        if plan.method == "relaunch":
            return self._relaunch(plan)
        return self._command(plan)

    def _command(self, plan: RestartPlan) -> RestartOutcome:
        done = process.run_capture(plan.argv, timeout=max(self.ping_timeout, 120.0))
        self.actions.append(f"ran {shlex.join(plan.argv)} (exit {done.returncode})")
        if not done.ok:
            why = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            return RestartOutcome(False, tuple(self.actions), f"{plan.argv[0]} failed: {why[0]}")
        return self._await(plan.host, pid=None)

    def _relaunch(self, plan: RestartPlan) -> RestartOutcome:
        daemon = plan.daemon
        assert daemon is not None
        host = plan.host
        fd = self._hold_netns(daemon)
        try:
            netns = netns_path_for(host, daemon)
            if netns is None:
                return RestartOutcome(False, (), "dockerd's network namespace is gone")
            if fd is not None and netns.startswith(f"/proc/{daemon.pid}/"):
                netns = f"/proc/{os.getpid()}/fd/{fd}"
            if not self._stop(daemon.pid):
                return RestartOutcome(
                    False, tuple(self.actions), f"dockerd {daemon.pid} did not stop"
                )
            self.actions.extend(clear_stale_pidfiles(daemon.argv))
            return self._spawn(host, daemon, netns or None)
        finally:
            if fd is not None:
                os.close(fd)

    def _hold_netns(self, daemon: DaemonProcess) -> int | None:
        # Opened before the kill: an unnamed namespace would vanish with its last process.
        try:
            fd = os.open(f"/proc/{daemon.pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None
        if inode(f"/proc/self/fd/{fd}") != daemon.netns_inode:
            os.close(fd)  # the pid was reused by another process
            return None
        return fd

    def _stop(self, pid: int) -> bool:
        if not _is_running_dockerd(pid):
            return True
        os.kill(pid, signal.SIGTERM)
        self.actions.append(f"sent TERM to dockerd {pid}")
        if self._wait(lambda: not _is_running_dockerd(pid), self.stop_timeout):
            return True
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        self.actions.append(f"sent KILL to dockerd {pid} after {self.stop_timeout:g}s")
        return self._wait(lambda: not _is_running_dockerd(pid), 10.0)

    def _spawn(self, host: str, daemon: DaemonProcess, netns: str | None) -> RestartOutcome:
        folder = self.folder or daemon_state.state_dir()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        log_path = daemon_state.state_file(host, folder).with_suffix(".log")
        try:
            pid = process.spawn_detached(daemon.argv, daemon.env, daemon.cwd, str(log_path), netns)
        except OSError as exc:
            return RestartOutcome(False, tuple(self.actions), f"cannot start dockerd: {exc}")
        where = " in its network namespace" if netns else ""
        self.actions.append(f"relaunched dockerd as pid {pid}{where} (log {log_path})")
        outcome = self._await(host, pid, log_path)
        if outcome.ok:
            with contextlib.suppress(OSError):
                fresh = read_process(pid)
                daemon_state.remember(host, fresh)
                daemon_state.save(host, fresh, folder)
        return outcome

    def _await(self, host: str, pid: int | None, log_path: Path | None = None) -> RestartOutcome:
        def ready() -> bool:
            return ping(host, timeout=2.0) or (pid is not None and not _alive(pid))

        self._wait(ready, self.ping_timeout)
        if ping(host, timeout=2.0):
            self.actions.append(f"daemon answers /_ping on {host}")
            return RestartOutcome(True, tuple(self.actions), pid=pid)
        tail = _tail(log_path) if log_path else ""
        why = "exited" if pid is not None and not _alive(pid) else "gave no /_ping answer"
        detail = f"daemon {why} within {self.ping_timeout:g}s" + (f": {tail}" if tail else "")
        return RestartOutcome(False, tuple(self.actions), detail, pid)

    def _wait(self, check: Callable[[], bool], timeout: float) -> bool:
        deadline = self.clock() + timeout
        while not check():
            if self.clock() >= deadline:
                return False
            self.sleep(0.1)
        return True


def _flag_value(argv: tuple[str, ...], flag: str, default: str) -> str:
    values = flag_values(argv, (flag,))  # the one dockerd flag parser (docker/endpoint.py)
    return values[-1] if values else default


def clear_stale_pidfiles(argv: tuple[str, ...]) -> list[str]:
    """Remove pid files of a dead dockerd and of the containerd it managed.

    dockerd refuses to start, or waits for a containerd that will never answer, when a
    pid file names a process that is gone but not yet reaped (a zombie under an init that
    does not reap, as in many containers): it takes "kill -0 succeeds" for "running".
    """
    exec_root = _flag_value(argv, "--exec-root", "/var/run/docker")
    candidates = (
        Path(_flag_value(argv, "--pidfile", "/var/run/docker.pid")),
        Path(exec_root) / "containerd" / "containerd.pid",
    )
    removed = []
    for pidfile in candidates:
        try:
            text = pidfile.read_text().strip()
        except OSError:
            continue
        if text.isdigit() and not _alive(int(text)):
            with contextlib.suppress(OSError):
                pidfile.unlink()
                removed.append(f"removed stale pid file {pidfile} (pid {text} is gone)")
    return removed


def _alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap our own relaunched child if it died
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _is_running_dockerd(pid: int) -> bool:
    try:
        argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 1)[0].decode()
    except OSError:
        return False
    return os.path.basename(argv0) == "dockerd" and _alive(pid)


def _tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text.splitlines()[-lines:])
