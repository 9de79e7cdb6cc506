"""Which daemon the wrapped `docker` talks to, and which process serves it.

The endpoint comes from DOCKER_HOST, else from the current docker context (read
from the CLI's context store, python-on-whales as a fallback since that spawns the
CLI), else the default socket. The process is found without an init system, and only
by proof that it serves that endpoint: a dockerd whose -H flags (or daemon.json
`hosts`, or the default socket when it sets neither) name it, or the process that
listens on its socket or TCP port. No other dockerd is ever adopted: on a shared CI
host "the one dockerd running" may be another job's, on a socket of its own, and
editing or restarting it would break that job. Its command line tells which keys are
set by flags, which daemon.json it reads, and where its pid file is.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ci_guard.docker.keys import key_table

DEFAULT_HOST = "unix:///var/run/docker.sock"
DEFAULT_PIDFILE = Path("/var/run/docker.pid")
DEFAULT_CONFIG_FILE = Path("/etc/docker/daemon.json")


@dataclass(frozen=True)
class DaemonEndpoint:
    url: str
    """unix:///path, tcp://host:port, ssh://... as the docker SDK takes it."""
    source: str
    """"DOCKER_HOST", "context:NAME" or "default"."""

    @property
    def socket_path(self) -> str | None:
        if self.url.startswith("unix://"):
            return self.url[len("unix://") :]
        return None


@dataclass(frozen=True)
class DaemonProcess:
    """A running dockerd: the one record of it. Finding it fills pid and argv (cheap);
    control.read_process adds what it takes to start it again as it was (root's view
    of /proc), which daemon_state keeps for a restart."""

    pid: int
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict, repr=False)
    cwd: str = ""
    uid: int | None = None
    netns_inode: int | None = None
    unit: str | None = None
    """The systemd unit whose cgroup holds the process, when systemd runs the host."""
    sysv: bool = False
    """Started by /etc/init.d/docker (its pid is in /var/run/docker.pid)."""

    @property
    def flags(self) -> tuple[str, ...]:
        """The flag names on the command line (e.g. "--registry-mirror", "-H")."""
        return parse_flags(self.argv)

    def flag_values(self, *names: str) -> list[str]:
        return flag_values(self.argv, names)

    @property
    def config_file(self) -> Path:
        values = self.flag_values("--config-file")
        return Path(values[-1]) if values else DEFAULT_CONFIG_FILE

    @property
    def hosts(self) -> list[str]:
        """Where it listens: -H flags, else daemon.json `hosts`, else the default socket."""
        return self.flag_values("-H", "--host") or _config_hosts(self.config_file) or [DEFAULT_HOST]


def _config_hosts(path: Path) -> list[str]:
    with contextlib.suppress(OSError, ValueError):
        data = json.loads(path.read_text("utf-8"))
        hosts = data.get("hosts") if isinstance(data, dict) else None
        if isinstance(hosts, list):
            return [h for h in hosts if isinstance(h, str)]
    return []


def find_endpoint(
    env: Mapping[str, str] | None = None,
    *,
    context_host: Callable[[str], str | None] | None = None,
) -> DaemonEndpoint:
    """The daemon endpoint the docker CLI would use in this environment."""
    env = os.environ if env is None else env
    if env.get("DOCKER_HOST"):
        return DaemonEndpoint(env["DOCKER_HOST"], "DOCKER_HOST")
    context = env.get("DOCKER_CONTEXT") or _config_context(env)
    if context and context != "default":
        host = _context_host_from_store(_docker_config_dir(env), context)
        if not host:
            lookup = context_host or _context_host_via_whales
            host = lookup(context)
        if host:
            return DaemonEndpoint(host, f"context:{context}")
    return DaemonEndpoint(DEFAULT_HOST, "default")


def _docker_config_dir(env: Mapping[str, str]) -> Path:
    return Path(env.get("DOCKER_CONFIG") or Path.home() / ".docker")


def _context_host_from_store(folder: Path, name: str) -> str | None:
    """The docker endpoint of context `name` from the CLI's store (meta/<sha256>/meta.json)."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    try:
        meta = json.loads((folder / "contexts" / "meta" / digest / "meta.json").read_text())
        host = meta["Endpoints"]["docker"]["Host"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return host if isinstance(host, str) and host else None


def _config_context(env: Mapping[str, str]) -> str | None:
    folder = _docker_config_dir(env)
    try:
        data = json.loads((folder / "config.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    context = data.get("currentContext") if isinstance(data, dict) else None
    return context if isinstance(context, str) else None


def _context_host_via_whales(name: str) -> str | None:
    try:
        from python_on_whales import docker  # spawns the CLI: only when needed
        from python_on_whales.exceptions import DockerException

        context = docker.context.inspect(name)
        host = context.endpoints["docker"].host
    except (ImportError, DockerException, KeyError, AttributeError, OSError):
        return None
    return str(host) if host else None


def parse_flags(cmdline: Sequence[str]) -> tuple[str, ...]:
    """Flag names given on a dockerd command line (short flags with glued values split)."""
    shorts = {flag for flag in key_table().flag_keys if len(flag) == 2}
    names = []
    for arg in cmdline[1:]:
        if arg == "--":
            break
        if arg.startswith("--"):
            names.append(arg.split("=", 1)[0])
        elif arg.startswith("-") and len(arg) >= 2:
            names.append(arg[:2] if arg[:2] in shorts else arg.split("=", 1)[0])
    return tuple(names)


def flag_values(cmdline: Sequence[str], names: Sequence[str]) -> list[str]:
    """Every value given to any of `names` (--flag=value, --flag value, -Hvalue)."""
    values = []
    args = list(cmdline[1:])
    for index, arg in enumerate(args):
        for name in names:
            if arg == name and index + 1 < len(args):
                values.append(args[index + 1])
            elif arg.startswith(f"{name}="):
                values.append(arg.split("=", 1)[1])
            elif len(name) == 2 and arg.startswith(name) and len(arg) > 2 and arg[2] != "-":
                values.append(arg[2:])
    return values


def find_daemon_process(
    endpoint: DaemonEndpoint,
    *,
    processes: Callable[[], list[DaemonProcess]] | None = None,
    listeners: Callable[[DaemonEndpoint], set[int]] | None = None,
) -> DaemonProcess | None:
    """The dockerd serving `endpoint`, or None (remote daemon, no rights, none there).

    Never a guess: a dockerd that names another socket is never taken, even when it
    is the only one running.
    """
    candidates = (processes or running_dockerds)()
    for proc in candidates:
        if any(_same_endpoint(host, endpoint.url) for host in proc.hosts):
            return proc
    # A socket-activated daemon (-H fd://) or one whose flags were not readable:
    # whoever holds the endpoint's listening socket serves it.
    owners = (listeners or listener_pids)(endpoint)
    for proc in candidates:
        if proc.pid in owners:
            return proc
    if endpoint.source == "default" and not candidates:
        found = _from_pidfile(DEFAULT_PIDFILE)
        if found is not None and (found.pid in owners or _serves(found, endpoint)):
            return found
    return None


def _serves(proc: DaemonProcess, endpoint: DaemonEndpoint) -> bool:
    return any(_same_endpoint(host, endpoint.url) for host in proc.hosts)


def _same_endpoint(host: str, url: str) -> bool:
    a, b = urlsplit(host), urlsplit(url)
    if a.scheme == "unix" or b.scheme == "unix":
        return a.scheme == b.scheme and _real(a.path) == _real(b.path)
    return a.scheme == b.scheme and a.hostname == b.hostname and a.port == b.port


def _real(path: str) -> str:
    return os.path.realpath(path)


def running_dockerds() -> list[DaemonProcess]:
    import psutil  # only needed when a daemon is looked for

    found = []
    for proc in psutil.process_iter(["pid", "name", "cmdline"]):
        info: dict[str, Any] = proc.info
        cmdline = info.get("cmdline") or []
        if info.get("name") == "dockerd" or (cmdline and Path(cmdline[0]).name == "dockerd"):
            found.append(DaemonProcess(info["pid"], tuple(cmdline)))
    return found


def listener_pids(endpoint: DaemonEndpoint) -> set[int]:
    """Processes holding the endpoint's listening socket (unix path or TCP port)."""
    parts = urlsplit(endpoint.url)
    if parts.scheme not in ("unix", "tcp") or (parts.scheme == "tcp" and parts.port is None):
        return set()
    import psutil

    try:
        connections = psutil.net_connections(kind=parts.scheme if parts.scheme == "unix" else "tcp")
    except (psutil.AccessDenied, OSError):
        return set()
    if parts.scheme == "unix":
        path = _real(parts.path)
        return {c.pid for c in connections if c.pid and c.laddr and _real(str(c.laddr)) == path}
    return {
        c.pid
        for c in connections
        if c.pid and c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == parts.port
    }


def _from_pidfile(path: Path) -> DaemonProcess | None:
    import psutil

    try:
        pid = int(path.read_text("ascii").strip())
        cmdline = psutil.Process(pid).cmdline()
    except (OSError, ValueError, psutil.Error):
        return None
    return DaemonProcess(pid, tuple(cmdline))
