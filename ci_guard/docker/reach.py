"""Whether ci-guard can configure the daemon the build talks to, or only use it.

A daemon on another host (tcp://docker:2376 of a docker-in-docker service, ssh://), in
another container or PID namespace (a mounted socket, a forwarded port), reads a
daemon.json this process cannot see: writing the local file, SIGHUP to a local pid or
restarting a local dockerd would change nothing it reads, or another job's daemon. Such
a daemon is still used over its API: mirrors are probed over the network and the
build and its retries run as usual; only host-side changes are skipped, with the reason.

`decide_reach` is the pure decision; `observe_reach` gathers its inputs on this host.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ci_guard.docker.endpoint import DEFAULT_HOST, DaemonEndpoint, DaemonProcess

LOCAL = "local"
DOWN = "down"
OTHER_HOST = "other-host"
SSH = "ssh"
NOT_ON_HOST = "not-on-this-host"
UNKNOWN_SCHEME = "unknown-scheme"

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
DIND_ADVICE = (
    "set the mirrors where that daemon starts: for docker-in-docker, "
    '`command: ["--registry-mirror=https://mirror.example"]` on the dind service; '
    "for a remote engine, its own daemon.json"
)


@dataclass(frozen=True)
class DaemonReach:
    endpoint: str
    local: bool
    """True: the daemon runs on this host and ci-guard may change its configuration."""
    kind: str
    """LOCAL, DOWN, OTHER_HOST, SSH, NOT_ON_HOST or UNKNOWN_SCHEME."""
    reason: str
    """One sentence: why the daemon counts as this host's, or not."""

    @property
    def remote(self) -> bool:
        return not self.local

    def skip_reason(self, what: str) -> str:
        """Why `what` (a host-side change) is not attempted, with the way that works."""
        return f"{what} skipped: {self.reason}; {DIND_ADVICE}"

    def as_log_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "endpoint": self.endpoint,
            "local": self.local,
            "kind": self.kind,
            "reason": self.reason,
        }
        if self.remote:
            fields["advice"] = DIND_ADVICE
        return fields


def decide_reach(
    endpoint: DaemonEndpoint,
    processes: Sequence[DaemonProcess],
    record: DaemonProcess | None,
    *,
    answers: bool | None,
    local_names: Collection[str] = (),
) -> DaemonReach:
    """Local or not, from the endpoint, the dockerds on this host's process table, the
    one proven to serve the endpoint (or recorded serving it earlier), and whether the
    endpoint answers now. `local_names`: this host's own names and addresses."""
    url = endpoint.url
    parts = urlsplit(url if "://" in url else f"unix://{url}")
    scheme = parts.scheme
    if scheme == "ssh":
        return _remote(url, SSH, f"{url} reaches a daemon on another host over ssh")
    if scheme not in ("unix", "tcp", "http", "https"):
        return _remote(url, UNKNOWN_SCHEME, f"ci-guard cannot tell where the daemon at {url} runs")
    if scheme != "unix" and not _is_local_host(parts.hostname or "", local_names):
        why = f"{url} names another host (a docker-in-docker service or a remote engine)"
        return _remote(url, OTHER_HOST, why)
    return _by_process(url, scheme, processes, record, answers)


def _by_process(
    url: str,
    scheme: str,
    processes: Sequence[DaemonProcess],
    record: DaemonProcess | None,
    answers: bool | None,
) -> DaemonReach:
    """A local address: this host's when a dockerd here is proven to serve it."""
    if record is not None:
        return DaemonReach(url, True, LOCAL, f"dockerd pid {record.pid} on this host serves {url}")
    if answers is False:
        why = f"no daemon answers at {url}; counted as this host's, to be started again"
        return DaemonReach(url, True, DOWN, why)
    if scheme == "unix" and _socket_activated(url, processes):
        why = f"a socket-activated dockerd on this host serves {url}"
        return DaemonReach(url, True, LOCAL, why)
    seen = f"none of the {len(processes)} dockerd processes here" if processes else "no dockerd"
    why = (
        f"the daemon at {url} is not on this host's process table ({seen} serves it: "
        "a daemon in another container or PID namespace, a mounted socket or a forwarded port)"
    )
    return _remote(url, NOT_ON_HOST, why)


def _remote(url: str, kind: str, reason: str) -> DaemonReach:
    return DaemonReach(url, False, kind, reason)


def _is_local_host(host: str, local_names: Collection[str]) -> bool:
    name = host.lower().strip("[]")
    if name in LOOPBACK_NAMES or name in {n.lower() for n in local_names}:
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _socket_activated(url: str, processes: Sequence[DaemonProcess]) -> bool:
    """systemd's docker.socket hands the default socket to a dockerd run with -H fd://."""
    if url.rstrip("/") != DEFAULT_HOST and url != "unix:///run/docker.sock":
        return False
    return any(host.startswith("fd://") for proc in processes for host in proc.hosts)


def observe_reach(endpoint: DaemonEndpoint) -> DaemonReach:
    """decide_reach with this host's facts: its dockerds, its names, a /_ping."""
    from ci_guard.docker import api, daemon_state
    from ci_guard.docker.endpoint import find_daemon_process, running_dockerds

    try:
        processes = running_dockerds()
    except Exception:  # no psutil rights: nothing seen, nothing adopted
        processes = []
    record = find_daemon_process(endpoint, processes=lambda: processes)
    if record is None:
        remembered = daemon_state.remembered(endpoint.url)
        record = remembered[0] if remembered else None
    answers = api.ping(endpoint.url, timeout=2.0) if record is None else True
    return decide_reach(
        endpoint, processes, record, answers=answers, local_names=local_host_names()
    )


def local_host_names() -> set[str]:
    """This host's name and interface addresses (a tcp:// endpoint naming one is local)."""
    import socket

    names = {socket.gethostname()}
    try:
        import psutil

        for addresses in psutil.net_if_addrs().values():
            names.update(a.address.split("%")[0] for a in addresses)
    except Exception:  # an interface list is a nicety: loopback still counts as local
        pass
    return names
