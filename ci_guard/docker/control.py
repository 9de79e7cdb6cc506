"""How the Docker daemon runs on this host, and how to restart (or start again) it.

A daemon is restarted the way it was started: a configured command, its systemd unit,
its SysV `service` script, or, for a dockerd started by hand (CI runners, test beds),
the same argument vector, environment, working directory and network namespace it had.
`snapshot()` records those facts (in memory with an open handle on the network
namespace, and in a state file) so a dockerd that crashed mid-run can be brought back.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shlex
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ci_guard import process
from ci_guard.atomic import atomic_write_text
from ci_guard.config import Config
from ci_guard.docker.api import endpoint, get_json, ping, resolve_host, unix_socket_path
from ci_guard.docker.endpoint import DEFAULT_HOST, find_daemon_process
from ci_guard.hostlock import user_runtime_dir

SYSTEM_STATE_DIR = Path("/run/ci-guard")
SYSTEMD_RUN_DIR = Path("/run/systemd/system")
SYSV_SCRIPT = Path("/etc/init.d/docker")
SYSV_PIDFILES = ("/var/run/docker.pid", "/run/docker.pid")
PING_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0

Sleep = Callable[[float], None]
Clock = Callable[[], float]


@dataclass(frozen=True)
class DaemonProcess:
    """What it takes to start this dockerd again as it was."""

    pid: int
    argv: tuple[str, ...]
    env: dict[str, str] = field(repr=False)
    cwd: str
    uid: int
    netns_inode: int | None
    unit: str | None = None
    """The systemd unit whose cgroup holds the process, when systemd runs the host."""
    sysv: bool = False
    """Started by /etc/init.d/docker (its pid is in /var/run/docker.pid)."""


@dataclass(frozen=True)
class RestartPlan:
    method: str
    """command | systemd | service | relaunch | none."""
    steps: tuple[str, ...]
    host: str
    daemon: DaemonProcess | None = None
    argv: tuple[str, ...] = ()
    needs: str | None = None
    """Why this process may not do it (missing rights), when so."""
    problem: str | None = None
    """Why no restart is possible at all, when so."""


@dataclass(frozen=True)
class RestartOutcome:
    ok: bool
    actions: tuple[str, ...]
    detail: str = ""
    pid: int | None = None


# -- finding the daemon --------------------------------------------------------------------


def find_dockerd(host: str | None) -> DaemonProcess | None:
    """The running dockerd that serves `host`, read from /proc; None when there is none."""
    found = find_daemon_process(endpoint(host))
    if found is None:
        return None
    try:
        return read_process(found.pid, list(found.cmdline))
    except OSError:
        return None


def read_process(pid: int, argv: list[str] | None = None) -> DaemonProcess:
    base = Path(f"/proc/{pid}")
    if argv is None:
        argv = [
            p.decode(errors="replace") for p in (base / "cmdline").read_bytes().split(b"\0") if p
        ]
    env = _read_environ(base / "environ")
    return DaemonProcess(
        pid=pid,
        argv=tuple(argv),
        env=env,
        cwd=os.readlink(base / "cwd"),
        uid=base.stat().st_uid,
        netns_inode=_inode(base / "ns" / "net"),
        unit=_systemd_unit(base / "cgroup"),
        sysv=_started_by_sysv(pid),
    )


def _read_environ(path: Path) -> dict[str, str]:
    env = {}
    for item in path.read_bytes().split(b"\0"):
        key, sep, value = item.decode(errors="replace").partition("=")
        if sep and key:
            env[key] = value
    return env


def _inode(path: Path | str) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def _systemd_unit(cgroup: Path) -> str | None:
    if not SYSTEMD_RUN_DIR.is_dir():
        return None
    try:
        lines = cgroup.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        last = line.rsplit("/", 1)[-1]
        if last.endswith(".service"):
            return last
    return None


def _started_by_sysv(pid: int) -> bool:
    if not SYSV_SCRIPT.exists():
        return False
    for pidfile in SYSV_PIDFILES:
        with contextlib.suppress(OSError):
            if Path(pidfile).read_text().strip() == str(pid):
                return True
    return False


# -- snapshots -----------------------------------------------------------------------------

# host -> (snapshot, fd on its network namespace): the fd keeps an unnamed namespace alive
# after the daemon in it died, so a relaunch lands in the very same one.
_remembered: dict[str, tuple[DaemonProcess, int | None]] = {}


def state_dir() -> Path:
    if SYSTEM_STATE_DIR.is_dir() and os.access(SYSTEM_STATE_DIR, os.W_OK):
        return SYSTEM_STATE_DIR
    if os.geteuid() == 0 and os.access(SYSTEM_STATE_DIR.parent, os.W_OK):
        return SYSTEM_STATE_DIR
    return user_runtime_dir()


def _state_file(host: str, folder: Path) -> Path:
    digest = hashlib.sha256(host.encode()).hexdigest()[:12]
    return folder / f"dockerd-{digest}.json"


def snapshot(host: str | None = None, *, folder: Path | None = None) -> DaemonProcess | None:
    """Record how the dockerd serving `host` runs (call it while the daemon is healthy).

    Never raises: a missing daemon or unwritable state folder just records less.
    """
    try:
        endpoint = resolve_host(host)
        daemon = find_dockerd(endpoint)
        if daemon is None:
            return None
        _remember(endpoint, daemon)
        with contextlib.suppress(OSError):
            _save(endpoint, daemon, folder or state_dir())
        return daemon
    except Exception:  # a best-effort record must never end a run
        return None


def _remember(host: str, daemon: DaemonProcess) -> None:
    old = _remembered.pop(host, None)
    if old is not None and old[1] is not None:
        os.close(old[1])
    fd: int | None = None
    with contextlib.suppress(OSError):
        fd = os.open(f"/proc/{daemon.pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    _remembered[host] = (daemon, fd)


def _save(host: str, daemon: DaemonProcess, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    record = {"host": host, "taken_at": time.time(), "daemon": asdict(daemon)}
    # The environment may hold proxy credentials: owner-only.
    atomic_write_text(_state_file(host, folder), json.dumps(record), mode=0o600)


def load_snapshot(host: str, folder: Path | None = None) -> DaemonProcess | None:
    """The last recorded dockerd for `host`: this process's memory first, then the file."""
    if host in _remembered:
        return _remembered[host][0]
    try:
        data = json.loads(_state_file(host, folder or state_dir()).read_text())
        raw: dict[str, Any] = data["daemon"]
        raw["argv"] = tuple(raw["argv"])
        return DaemonProcess(**raw)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def forget(host: str) -> None:
    """Drop the in-memory snapshot (and its namespace handle) of `host`."""
    old = _remembered.pop(resolve_host(host), None)
    if old is not None and old[1] is not None:
        os.close(old[1])


# -- network namespaces --------------------------------------------------------------------


def netns_path_for(host: str, daemon: DaemonProcess) -> str | None:
    """A path that opens `daemon`'s network namespace, "" for our own, None if it is gone."""
    if daemon.netns_inode is None or daemon.netns_inode == _inode("/proc/self/ns/net"):
        return ""
    remembered = _remembered.get(host)
    if (
        remembered
        and remembered[1] is not None
        and _inode(f"/proc/self/fd/{remembered[1]}") == (daemon.netns_inode)
    ):
        return f"/proc/{os.getpid()}/fd/{remembered[1]}"
    live = f"/proc/{daemon.pid}/ns/net"
    if _inode(live) == daemon.netns_inode:
        return live
    return _find_netns(daemon.netns_inode)


def _find_netns(inode: int) -> str | None:
    for folder in ("/run/netns", "/var/run/netns"):
        with contextlib.suppress(OSError):
            for entry in Path(folder).iterdir():
                if _inode(entry) == inode:
                    return str(entry)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _inode(entry / "ns" / "net") == inode:
            return str(entry / "ns" / "net")
    return None


# -- planning ------------------------------------------------------------------------------


def plan_restart(
    config: Config, host: str | None = None, *, folder: Path | None = None
) -> RestartPlan:
    """How the daemon at `host` would be restarted (or started again), changing nothing."""
    endpoint = resolve_host(host)
    if config.restart_command:
        argv = tuple(shlex.split(config.restart_command))
        return RestartPlan(
            "command",
            (f"run the restart command: {shlex.join(argv)}",),
            endpoint,
            find_dockerd(endpoint),
            argv,
        )
    running = find_dockerd(endpoint)
    if running is not None:
        return _plan_for(endpoint, running, alive=True)
    recorded = load_snapshot(endpoint, folder)
    if recorded is not None:
        return _plan_for(endpoint, recorded, alive=False)
    return _plan_unknown(endpoint)


def _needs_root(daemon: DaemonProcess | None) -> str | None:
    if os.geteuid() == 0 or (daemon is not None and daemon.uid == os.geteuid()):
        return None
    return "root (or set restart-command, e.g. 'sudo systemctl restart docker')"


def _plan_for(host: str, daemon: DaemonProcess, *, alive: bool) -> RestartPlan:
    verb = "restart" if alive else "start"
    needs = _needs_root(daemon)
    if daemon.unit:
        argv = ("systemctl", verb, daemon.unit)
        return RestartPlan("systemd", (shlex.join(argv),), host, daemon, argv, needs)
    if daemon.sysv:
        argv = ("service", "docker", verb)
        return RestartPlan("service", (shlex.join(argv),), host, daemon, argv, needs)
    steps = (
        [f"stop dockerd pid {daemon.pid} (TERM, KILL after {STOP_TIMEOUT_S:g}s)"]
        if alive
        else [f"dockerd (last pid {daemon.pid}) is not running"]
    )
    netns = netns_path_for(host, daemon)
    if netns is None:
        return RestartPlan(
            "relaunch",
            tuple(steps),
            host,
            daemon,
            daemon.argv,
            needs,
            problem=f"the network namespace dockerd ran in (inode {daemon.netns_inode}) is gone",
        )
    where = f" in network namespace {daemon.netns_inode}" if netns else ""
    steps.append(f"relaunch {shlex.join(daemon.argv)} (cwd {daemon.cwd}){where}")
    return RestartPlan("relaunch", tuple(steps), host, daemon, daemon.argv, needs)


def _plan_unknown(host: str) -> RestartPlan:
    path = unix_socket_path(host)
    default = path is not None and os.path.realpath(path) == os.path.realpath(
        DEFAULT_HOST[len("unix://") :]
    )
    if default and SYSTEMD_RUN_DIR.is_dir():
        argv = ("systemctl", "start", "docker.service")
        return RestartPlan("systemd", (shlex.join(argv),), host, None, argv, _needs_root(None))
    if default and SYSV_SCRIPT.exists():
        argv = ("service", "docker", "start")
        return RestartPlan("service", (shlex.join(argv),), host, None, argv, _needs_root(None))
    return RestartPlan(
        "none",
        (),
        host,
        problem=f"no dockerd serves {host} and none was recorded; set restart-command",
    )


# -- doing it ------------------------------------------------------------------------------


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
        if _inode(f"/proc/self/fd/{fd}") != daemon.netns_inode:
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
        folder = self.folder or state_dir()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        log_path = _state_file(host, folder).with_suffix(".log")
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
                _remember(host, fresh)
                _save(host, fresh, folder)
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
    for index, arg in enumerate(argv):
        if arg == flag and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return default


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


def live_restore(host: str) -> tuple[bool | None, int]:
    """(live-restore on?, running containers) from the daemon's /info; (None, 0) if silent."""
    info = get_json(host, "/info")
    if not isinstance(info, dict):
        return None, 0
    return bool(info.get("LiveRestoreEnabled")), int(info.get("ContainersRunning") or 0)
