"""How the Docker daemon runs on this host, and how to restart (or start again) it.

A daemon is restarted the way it was started: a configured command, its systemd unit,
its SysV `service` script, or, for a dockerd started by hand (CI runners, test beds),
the same argument vector, environment, working directory and network namespace it had.
`snapshot()` records those facts (in memory with an open handle on the network
namespace, and in a state file) so a dockerd that crashed mid-run can be brought back.
"""

from __future__ import annotations

import contextlib
import os
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ci_guard.config import Config
from ci_guard.docker import api, daemon_state
from ci_guard.docker.api import endpoint, resolve_host, unix_socket_path
from ci_guard.docker.daemon_state import forget, load_snapshot, state_dir
from ci_guard.docker.endpoint import DEFAULT_HOST, DaemonProcess, find_daemon_process

SYSTEMD_RUN_DIR = Path("/run/systemd/system")
SYSV_SCRIPT = Path("/etc/init.d/docker")
SYSV_PIDFILES = ("/var/run/docker.pid", "/run/docker.pid")
PING_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0

Sleep = Callable[[float], None]
Clock = Callable[[], float]


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
        return read_process(found.pid, list(found.argv))
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
        netns_inode=inode(base / "ns" / "net"),
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


def inode(path: Path | str) -> int | None:
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


def snapshot(host: str | None = None, *, folder: Path | None = None) -> DaemonProcess | None:
    """Record how the dockerd serving `host` runs (call it while the daemon is healthy).

    Never raises: a missing daemon or unwritable state folder just records less.
    """
    try:
        endpoint = resolve_host(host)
        daemon = find_dockerd(endpoint)
        if daemon is None:
            return None
        daemon_state.remember(endpoint, daemon)
        with contextlib.suppress(OSError):
            daemon_state.save(endpoint, daemon, folder or daemon_state.state_dir())
        return daemon
    except Exception:  # a best-effort record must never end a run
        return None


# -- network namespaces --------------------------------------------------------------------


def netns_path_for(host: str, daemon: DaemonProcess) -> str | None:
    """A path that opens `daemon`'s network namespace, "" for our own, None if it is gone."""
    if daemon.netns_inode is None or daemon.netns_inode == inode("/proc/self/ns/net"):
        return ""
    remembered = daemon_state.remembered(host)
    if (
        remembered
        and remembered[1] is not None
        and inode(f"/proc/self/fd/{remembered[1]}") == (daemon.netns_inode)
    ):
        return f"/proc/{os.getpid()}/fd/{remembered[1]}"
    live = f"/proc/{daemon.pid}/ns/net"
    if inode(live) == daemon.netns_inode:
        return live
    return _find_netns(daemon.netns_inode)


def _find_netns(wanted: int) -> str | None:
    for folder in ("/run/netns", "/var/run/netns"):
        with contextlib.suppress(OSError):
            for entry in Path(folder).iterdir():
                if inode(entry) == wanted:
                    return str(entry)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and inode(entry / "ns" / "net") == wanted:
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


def live_restore(host: str) -> tuple[bool | None, int]:
    """(live-restore on?, running containers) from the daemon's /info; (None, 0) if silent."""
    try:
        info = api.info(host)
    except OSError:
        return None, 0
    return bool(info.get("LiveRestoreEnabled")), int(info.get("ContainersRunning") or 0)


__all__ = [
    "DaemonProcess",
    "RestartOutcome",
    "RestartPlan",
    "find_dockerd",
    "forget",
    "live_restore",
    "load_snapshot",
    "netns_path_for",
    "plan_restart",
    "read_process",
    "snapshot",
    "state_dir",
]
