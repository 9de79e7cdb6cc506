"""Has the daemon been restarted since a failure? Asked under the host lock, so that
runs queued behind one restart do not each restart the daemon again.

Ten jobs that fail together on one broken daemon all reach restart-daemon; the first
to take the host lock restarts it, and every later one finds a dockerd that started
after its failure (or another pid than the one it saw fail) and answers /_ping. That
daemon is not the one that failed: restarting it again would only cut off the builds
the first restart brought back.

A daemon ci-guard cannot see as a process (a `restart-command`, a daemon in another
pid namespace) is judged by the record the restarting run leaves under the lock
(`restarted-<id>.json` in the state folder): a restart that finished after the
failure, on a daemon that answers, is enough.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from ci_guard.atomic import atomic_write_text
from ci_guard.docker.api import ping
from ci_guard.docker.control import find_dockerd, state_dir


@dataclass(frozen=True)
class DaemonSeen:
    pid: int
    started: float
    """Seconds since boot (CLOCK_BOOTTIME, as the kernel counts process start times)."""


def boot_seconds(epoch: float) -> float:
    """An epoch time as seconds since boot, the clock process start times use."""
    return epoch - time.time() + time.clock_gettime(time.CLOCK_BOOTTIME)


def process_started(pid: int) -> float | None:
    """When `pid` started, in seconds since boot (10 ms resolution), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: starttime in ticks


def observe(host: str) -> DaemonSeen | None:
    """The dockerd serving `host` now, with its start time; None when there is none."""
    daemon = find_dockerd(host)
    if daemon is None:
        return None
    started = process_started(daemon.pid)
    return DaemonSeen(daemon.pid, started) if started is not None else None


def _record_path(host: str, folder: Path | None) -> Path:
    digest = hashlib.sha256(host.encode()).hexdigest()[:12]
    return (folder or state_dir()) / f"restarted-{digest}.json"


def record_restart(host: str, folder: Path | None = None) -> None:
    """Note that `host` was just restarted (call it under the host lock); best effort."""
    path = _record_path(host, folder)
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        record = {"host": host, "finished_at": time.time(), "by_pid": os.getpid()}
        atomic_write_text(path, json.dumps(record), mode=0o600)


def _recorded(host: str, folder: Path | None) -> float | None:
    try:
        data = json.loads(_record_path(host, folder).read_text())
        return float(data["finished_at"]) if data.get("host") == host else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def restarted_since(
    host: str, failed_at: float, seen: DaemonSeen | None, *, folder: Path | None = None
) -> str | None:
    """Why a restart of `host` is not needed any more, or None when it still is.

    `failed_at`: epoch seconds when the failure being remedied was seen; `seen`: the
    dockerd observed then (before waiting for the lock), if any.
    """
    if not ping(host, timeout=2.0):
        return None
    now = observe(host)
    if now is None:
        return _by_record(host, failed_at, folder)
    newer = now.started > boot_seconds(failed_at)
    replaced = seen is not None and seen.pid != now.pid
    if not (newer or replaced):
        return None
    ago = max(time.clock_gettime(time.CLOCK_BOOTTIME) - now.started, 0.0)
    return (
        f"dockerd was already restarted after this failure (pid {now.pid}, "
        f"started {ago:.1f}s ago) and answers /_ping on {host}"
    )


def _by_record(host: str, failed_at: float, folder: Path | None) -> str | None:
    finished = _recorded(host, folder)
    if finished is None or finished <= failed_at:
        return None
    return (
        f"the daemon was already restarted after this failure ({time.time() - finished:.1f}s "
        f"ago, by another ci-guard run) and answers /_ping on {host}"
    )
